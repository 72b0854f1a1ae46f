"""Every ORM model, imported here so Alembic and the mappers see them all."""

from app.models.access_token import AccessToken
from app.models.assistant import AssistantVersion, StoredAssistant
from app.models.checkpoint import Checkpoint, CheckpointBlob, CheckpointMigration, CheckpointWrite
from app.models.conversation import PREVIEW_CHARS, Conversation
from app.models.cron import Cron
from app.models.deleted_thread import DeletedThread
from app.models.login_failure import LoginFailure
from app.models.message import ROLES, Message
from app.models.note import Note
from app.models.run_event import RunEvent
from app.models.run_status import CancelAction, MultitaskStrategy, RunStatus
from app.models.search_config import SearchConfig
from app.models.store_item import StoreItem, StoreMigration
from app.models.thread_run import SENTIMENTS, ThreadRun
from app.models.user import User

__all__ = [
    "PREVIEW_CHARS",
    "ROLES",
    "SENTIMENTS",
    "AccessToken",
    "AssistantVersion",
    "CancelAction",
    "Checkpoint",
    "CheckpointBlob",
    "CheckpointMigration",
    "CheckpointWrite",
    "Conversation",
    "Cron",
    "DeletedThread",
    "LoginFailure",
    "Message",
    "MultitaskStrategy",
    "Note",
    "RunEvent",
    "RunStatus",
    "SearchConfig",
    "StoreItem",
    "StoreMigration",
    "StoredAssistant",
    "ThreadRun",
    "User",
]
