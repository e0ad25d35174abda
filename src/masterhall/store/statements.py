"""The SQL of a turn's hot path, built once and executed with parameters.

Building a SQLAlchemy statement with literal values (``insert(t).values(a=1)``) costs more CPU
than running it on SQLite: every value becomes a bound parameter whose cache key is computed at
each execution. The statements here are built once at import, with named parameters
(``b_<name>``, never a column's own name), and run as ``conn.execute(STATEMENT, {...})`` —
compiled once per engine, then only bound. Schema: :mod:`.tables`.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import Update, bindparam, func, insert, select, update

from .tables import ConversationRow, MessageRow

_conversations = ConversationRow.__table__
_messages = MessageRow.__table__


def _param(column, name: str | None = None):
    """A named parameter typed like ``column`` (timestamps and JSON convert as the column's do)."""
    return bindparam(f"b_{name or column.name}", type_=column.type)


#: A new conversation: every column as a parameter (``conversations.c`` names).
INSERT_CONVERSATION = insert(_conversations)
#: A new message: every column as a parameter (``messages.c`` names, ``id`` generated).
INSERT_MESSAGE = insert(_messages)

#: A conversation by id (``b_id``).
SELECT_CONVERSATION = select(_conversations).where(_conversations.c.id == bindparam("b_id"))
#: A conversation's messages (``b_id``), oldest first.
SELECT_MESSAGES = select(_messages).where(_messages.c.conversation_id == bindparam("b_id")).order_by(_messages.c.id)
#: Whether a message exists (``b_id``).
MESSAGE_EXISTS = select(_messages.c.id).where(_messages.c.id == bindparam("b_id"))

#: The growing text of a ``streaming`` message (``b_id``, ``b_content``, ``b_updated_at``).
UPDATE_CONTENT = (
    update(_messages)
    .where(_messages.c.id == bindparam("b_id"), _messages.c.status == "streaming")
    .values(content=_param(_messages.c.content), updated_at=_param(_messages.c.updated_at))
)
#: Move the ``updated_at`` of a message's conversation (``b_id`` of the message, ``b_updated_at``).
TOUCH_OWNER = (
    update(_conversations)
    .where(_conversations.c.id == select(_messages.c.conversation_id).where(_messages.c.id == bindparam("b_id"))
           .scalar_subquery())
    .values(updated_at=_param(_conversations.c.updated_at))
)
#: A message's final state (``b_id`` and every column set here); nothing read back.
END_MESSAGE = (
    update(_messages)
    .where(_messages.c.id == bindparam("b_id"))
    .values({name: _param(_messages.c[name]) for name in (
        "content", "status", "error", "prompt_tokens", "completion_tokens", "ttft_s", "tokens_per_s",
        "finish_reason", "safety", "notes", "recommendations", "citations", "updated_at")})
)
#: :data:`END_MESSAGE` returning the whole row.
FINISH_MESSAGE = END_MESSAGE.returning(*_messages.c)


@cache
def touch(*, model: bool = False, title: bool = False, returning: bool = False) -> Update:
    """Set a conversation's ``updated_at`` (``b_id``, ``b_updated_at``) and, when asked, its
    ``model`` (``b_model``) and its title if it has none yet (``b_title``); optionally returning
    the row."""
    values = {"updated_at": _param(_conversations.c.updated_at)}
    if model:
        values["model"] = _param(_conversations.c.model)
    if title:
        values["title"] = func.coalesce(_conversations.c.title, _param(_conversations.c.title))
    statement = update(_conversations).where(_conversations.c.id == bindparam("b_id")).values(values)
    return statement.returning(*_conversations.c) if returning else statement
