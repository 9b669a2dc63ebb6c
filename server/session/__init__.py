"""The live interview as a sans-I/O state machine (see README.md, "The live interview room").

:class:`InterviewSession` decides; ``server.live`` feeds it and does the I/O. Importing this package pulls
in no asyncio, Starlette, aiortc or Redis.
"""

from protocol.messages import Phase
from server.session.effects import (
    AddIceCandidate,
    Close,
    CompleteInterview,
    Effect,
    EndInterview,
    NegotiateMedia,
    Publish,
    SaveAnswer,
    SaveSnapshot,
    ScoreAnswer,
    SpeakQuestion,
    StartRecording,
    StopRecording,
    StopSpeaking,
    SuggestFollowUp,
    Transcribe,
)
from server.session.machine import RESTORE_SEQ_GAP, SNAPSHOT_FORMAT, InterviewSession, InvalidPhase, Outgoing
from server.session.model import Question, SessionConfig

__all__ = [
    "RESTORE_SEQ_GAP",
    "SNAPSHOT_FORMAT",
    "AddIceCandidate",
    "Close",
    "CompleteInterview",
    "Effect",
    "EndInterview",
    "InterviewSession",
    "InvalidPhase",
    "NegotiateMedia",
    "Outgoing",
    "Phase",
    "Publish",
    "Question",
    "SaveAnswer",
    "SaveSnapshot",
    "ScoreAnswer",
    "SessionConfig",
    "SpeakQuestion",
    "StartRecording",
    "StopRecording",
    "StopSpeaking",
    "SuggestFollowUp",
    "Transcribe",
]
