"""The WebSocket protocol of the live interview room and monitor: see ``protocol/README.md``."""

from protocol.messages import *  # noqa: F403
from protocol.messages import __all__ as __all__
