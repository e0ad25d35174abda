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

This layer knows nothing of HTTP or terminals.
"""

from .db import alembic_config, current_revision, default_database_url, head_revision, make_engine, migrate
from .repos import (
    INTERRUPTED_REASON,
    TITLE_MAX_CHARS,
    Conversation,
    ConversationRepo,
    Message,
    NotFoundError,
    Role,
    Status,
    Store,
    title_from_message,
)
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
    "Message",
    "MessageRow",
    "NotFoundError",
    "Role",
    "Status",
    "Store",
    "alembic_config",
    "current_revision",
    "default_database_url",
    "head_revision",
    "make_engine",
    "migrate",
    "title_from_message",
]
