"""One Settings object, read from the environment (and a ``.env`` file) — nothing is read at import time."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_CORS = [
    "http://localhost:5173",
    "http://localhost:3000",
    "http://localhost:4200",
    "http://127.0.0.1:5173",
    "http://127.0.0.1:3000",
    "http://127.0.0.1:4200",
]


class Settings(BaseSettings):
    """Every knob of Viva. Environment names are given by ``validation_alias`` or the ``VIVA_`` prefix."""

    model_config = SettingsConfigDict(
        env_prefix="VIVA_", env_file=".env", extra="ignore", populate_by_name=True
    )

    data_dir: Path = Path("data")
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    db_statement_timeout_s: float = Field(default=30.0, ge=0)
    """PostgreSQL: a statement that runs, or waits for a lock, longer than this is cancelled and the request
    answered 503 "try again" instead of hanging; 0 for no limit."""
    redis_url: str | None = Field(default=None, validation_alias="REDIS_URL")
    redis_prefix: str = "viva:"
    secret_key: SecretStr | None = None
    token_ttl_minutes: int = 60 * 12
    admin_email: str | None = None
    admin_password: SecretStr | None = None
    admin_name: str = "Administrator"
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=lambda: list(DEFAULT_CORS))
    auto_migrate: bool = True
    log_level: str = "INFO"
    log_json: bool = True
    # Limits
    max_body_bytes: int = 32 * 1024 * 1024
    max_resume_bytes: int = 10 * 1024 * 1024
    max_voice_note_bytes: int = 20 * 1024 * 1024
    login_attempts_per_account: int = 10
    login_attempts_per_address: int = 30
    login_window_s: int = 300
    # AI and speech (used by later families)
    ai_provider: Literal["auto", "openai", "offline"] = "auto"
    openai_api_key: SecretStr | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(default=None, validation_alias="OPENAI_BASE_URL")
    llm_model: str = Field(default="gpt-4o-mini", validation_alias="VIVA_LLM_MODEL")
    azure_openai_endpoint: str | None = Field(default=None, validation_alias="AZURE_OPENAI_ENDPOINT")
    azure_openai_api_key: SecretStr | None = Field(default=None, validation_alias="AZURE_OPENAI_API_KEY")
    azure_openai_api_version: str = Field(default="2024-10-21", validation_alias="AZURE_OPENAI_API_VERSION")
    azure_openai_deployment: str | None = Field(default=None, validation_alias="AZURE_OPENAI_DEPLOYMENT")
    llm_timeout_s: float = 20.0
    llm_max_retries: int = 2
    # Speech
    tts_engine: Literal["piper", "edge"] = "piper"
    tts_max_chars: int = 1000
    tts_prefetch: bool = True
    edge_connect_timeout_s: float = 3.0
    piper_male_model: Path | None = None
    piper_female_model: Path | None = None
    whisper_model: str | None = Field(default=None, validation_alias="WHISPER_MODEL")
    stt_cpu_threads: int = 1
    """Threads per transcription. tiny.en gains little from a second thread (5 s clip: 0.42 s on two,
    0.48 s on one), so two one-thread workers serve twice the calls at once."""
    stt_workers: int = 2
    stt_queue_size: int = 64
    stt_beam_size: int = 1
    max_video_bytes: int = 200 * 1024 * 1024
    max_media_seconds: int = 600
    media_workers: int = 1
    embedded_worker: bool = True
    preload_models: bool = False
    ice_servers: str | None = Field(default=None, validation_alias="VIVA_ICE_SERVERS")
    live_silence_ms: int = 2000
    live_barge_in: bool = False
    live_hello_timeout_s: float = 10.0
    live_heartbeat_s: float = 30.0
    live_record_video: bool = True
    live_max_sessions: int = 50
    """Live interview sessions one instance holds at once (a join beyond it closes with 4029)."""
    live_max_sockets: int = 500
    """Open room and monitor sockets on one instance, together (one beyond it closes with 4029)."""
    live_max_sockets_per_address: int = 0
    """Open sockets per client address on one instance; 0 = no limit (behind a proxy whose
    ``X-Forwarded-For`` uvicorn does not trust, every client has the proxy's address)."""
    socket_messages_per_s: int = 20
    """Text messages one socket may send per second (more closes it with 4029)."""
    socket_audio_frames_per_s: int = 1000
    """Binary audio frames one room socket may send per second: 20 ms frames in real time are 50/s;
    the margin covers 10 ms frames and a client catching up after a stalled network."""
    live_save_retries_s: float = 8.0
    """How long storing a live answer is retried (with backoff) before the candidate is told (4500) and
    asked again."""
    live_owner_ttl_s: float = 10.0
    live_max_follow_ups: int = Field(default=1, ge=0, le=5)
    live_advance_early: bool = True
    instance_url: str | None = None
    """This instance's own base URL (``http://10.0.0.5:8000``): where a room socket that lands on another
    instance is sent. Unset: that socket is told to retry until the session is free."""
    monitor_max_per_session: int = 50
    job_lease_s: float = 300.0
    job_poll_s: float = 1.0

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("secret_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("VIVA_SECRET_KEY must be at least 32 characters (HS256 needs a 256-bit key)")
        return value

    @field_validator("redis_url", "database_url", "openai_base_url", "azure_openai_endpoint", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def effective_database_url(self) -> str:
        """The async SQLAlchemy URL: ``DATABASE_URL`` or a SQLite file under the data dir."""
        url = self.database_url or f"sqlite+aiosqlite:///{(self.data_dir / 'viva.db').resolve()}"
        return normalise_database_url(url)

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    def signing_key(self) -> str:
        """The JWT signing key; without ``VIVA_SECRET_KEY`` one is generated and kept under the data dir."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.data_dir / "secret.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


def normalise_database_url(url: str) -> str:
    """Map plain ``postgresql://`` and ``sqlite://`` URLs onto the async drivers Viva uses."""
    for prefix, replacement in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgresql+psycopg2://", "postgresql+asyncpg://"),
        ("sqlite:///", "sqlite+aiosqlite:///"),
    ):
        if url.startswith(prefix):
            return replacement + url[len(prefix) :]
    return url
