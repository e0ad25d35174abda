"""Storage: conversations and messages in SQLite (default) or PostgreSQL, with migrations.

Public API::

    from masterhall.store import Store

    with Store() as store:                      # default: <user data dir>/masterhall.db
        repo = store.conversations
        repo.recover_interrupted()              # once, at server start
        conv = repo.create("socrates")
        repo.add_message(conv.id, "user", "What is virtue?")   # committed now
        msg = repo.start_assistant(conv.id, model="embedded")
        repo.update_content(msg.id, "Virtue is")
        repo.finish_message(msg.id, "Virtue is knowledge.", "complete", completion_tokens=5)

Modules: ``db`` (engines, migrations and :class:`Store`), ``tables`` (the schema),
``conversations`` and ``masters`` (the repositories). This layer knows nothing of HTTP or
terminals.
"""

from ..errors import NotFoundError
from .conversations import (
    INTERRUPTED_REASON,
    TITLE_MAX_CHARS,
    Conversation,
    ConversationRepo,
    Message,
    Role,
    Status,
    title_from_message,
)
from .db import Store, alembic_config, current_revision, default_database_url, head_revision, make_engine, migrate
from .masters import MasterFile, MasterStatus, UserMaster, UserMasterRepo
from .tables import ROLES, STATUSES, Base, ConversationRow, MessageRow

__all__ = [
    "INTERRUPTED_REASON",
    "ROLES",
    "STATUSES",
    "TITLE_MAX_CHARS",
    "Base",
    "Conversation",
    "ConversationRepo",
    "ConversationRow",
    "MasterFile",
    "MasterStatus",
    "Message",
    "MessageRow",
    "NotFoundError",
    "Role",
    "Status",
    "Store",
    "UserMaster",
    "UserMasterRepo",
    "alembic_config",
    "current_revision",
    "default_database_url",
    "head_revision",
    "make_engine",
    "migrate",
    "title_from_message",
]
