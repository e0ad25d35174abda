"""Round tables: several masters in one conversation, a round of replies per message.

:class:`RoundTable` runs the rounds the :class:`~.chair.Chair` plans, on the hall's turn pool
and through :class:`~.service.ChatService`'s storage and claims: the person's message is stored,
then each speaker's reply as its own assistant message with its ``master_id``, streamed and
written like any answer (see :mod:`.service`). Each speaker answers with its own instructions,
examples, backend and parameters, and sees the earlier speakers' replies labelled with their names
(:func:`~.chair.speaker_history`, :func:`~.chair.round_addendum`); the safety guard rates every
speaker's turn. One :class:`~.turns.Generation` carries the whole round: Stop ends it (the reply
in progress is kept as ``stopped``, the speakers after it do not speak). A crisis answered by the
guard ends the round after that help answer (the other masters do not speak over it). While a
speaker streams, the next speaker's prompt is read ahead by a backend that can (``preread``).

Events of a round: ``start`` (``conversation_id``, ``user_message_id``, ``title``, ``members``,
``joined``, ``round: true``), then per speaker ``speaker`` (``master_id``, ``name``, ``avatar``,
``avatar_image``, ``message_id``, ``summary``), ``context`` (optional), ``delta`` …, ``done`` or
``error`` (with ``master_id``), and last ``round`` (``status``: ``complete``, ``stopped``, ``guard``;
``speakers``: the ids who spoke). Knows nothing of HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from ..accounts import LOCAL, Caller
from ..backends.base import ChatMessage, preread
from ..catalog.loader import UnknownMasterError
from ..catalog.models import Master, SamplingParams
from ..chat.language import detect_language
from ..errors import NotFoundError
from ..store.conversations import Conversation, Message
from .chair import Chair, RoundPlan, round_addendum, speaker_history, wants_summary
from .service import ChatService, InvalidMessageError, _context, _error_code, _validate
from .turns import Event, Generation, Listener, pump

#: The speaker of an earlier assistant message of an unstored round (a client's history).
TABLE = ""

#: Characters a reply must grow by before the next speaker's prompt is read ahead again: each
#: read-ahead is a request of its own (render, tokenize, the slot's last token read again) that
#: shares the engine with the reply being decoded; ~32 tokens of English (bench/README.md, Round tables).
READ_AHEAD_STEP = 128

#: How many masters a round table seats at least when it starts, and at most (masters added
#: later or @-mentioned included; an unstored round of /v1 or the command line may start with this many).
MIN_MEMBERS, MAX_MEMBERS = 2, 8

#: The most masters a stored round table starts with (the hall's picker, the Finder's picks,
#: ``/roundtable``, ``POST /api/messages`` with ``master_ids``); more may join it later.
MAX_START = 4


@dataclass
class _Round:
    """What a running round needs: the conversation (``None`` for an unstored round), the person's
    message, the history before it, the plan, and the replies heard so far (``(id, text)``)."""

    conversation: Conversation | None
    user: Message | None
    text: str
    before: list[tuple[str, str | None, str]]
    plan: RoundPlan
    rounds: int = 1
    backend: str | None = None
    params: SamplingParams | None = None
    heard: list[tuple[str, str]] = field(default_factory=list)
    #: Regenerate one reply: its message id (the plan then has that one speaker).
    redo: int | None = None
    #: A client's own system text (unstored rounds from /v1).
    client_system: str | None = None
    #: The speaker after the one answering, whose prompt is read ahead while it answers, and that
    #: prompt up to the person's message (the backend and messages, once asked; ``False``: not possible).
    ahead: str | None = None
    ahead_prompt: tuple | bool | None = None
    #: Who is answering now, and how much of the reply had been read ahead for the next speaker.
    speaking: str | None = None
    ahead_chars: int = 0


class RoundTable:
    """Round tables over ``chat`` (storage, claims, the engine and the turn pool), planned by
    ``chair``. Every method on a stored conversation takes the ``caller`` it acts for; a
    conversation is its owner's alone (``NotFoundError`` to anyone else). ``preread``: at a
    speaker's first delta, have the backend read the next speaker's prompt ahead (see
    :meth:`_read_ahead`)."""

    def __init__(self, chat: ChatService, chair: Chair | None = None, *, preread: bool = True):
        self.chat = chat
        self.chair = chair or Chair()
        self.preread = preread

    # -- who sits at the table -----------------------------------------------------------------
    def names(self) -> dict[str, list[str]]:
        """Every master that may be seated or addressed: ``{id: [id, English name, Chinese name]}``
        (the advisors of the catalog; the Finder's guide does not sit at tables)."""
        return {m.id: [m.id, m.name.en, m.name.zh] for m in self.chat.engine.catalog.advisors()}

    def master(self, master_id: str) -> Master:
        """A master who may sit at a table. Raises :class:`~.service.InvalidMessageError`."""
        try:
            master = self.chat.engine.catalog.get(master_id)
        except UnknownMasterError as exc:
            raise InvalidMessageError(str(exc)) from exc
        if master.is_guide:
            raise InvalidMessageError(f"'{master_id}' is the hall's guide; it does not sit at round tables.")
        return master

    def seat(self, master_ids: Sequence[str], minimum: int = MIN_MEMBERS, maximum: int = MAX_MEMBERS) -> list[str]:
        """``master_ids`` checked and without repeats (canonical ids, order kept): between
        ``minimum`` and ``maximum`` known advisors. Raises :class:`~.service.InvalidMessageError`
        (an unknown master, the guide, too few or too many)."""
        seated: list[str] = []
        for master_id in master_ids:
            key = self.master(master_id).id
            if key not in seated:
                seated.append(key)
        if not minimum <= len(seated) <= maximum:
            verb = "starts with" if maximum == MAX_START else "seats"
            raise InvalidMessageError(f"A round table {verb} {minimum} to {maximum} different masters "
                                      f"({len(seated)} given).")
        return seated

    def set_members(self, conversation_id: str, master_ids: Sequence[str], *, caller: Caller = LOCAL) -> Conversation:
        """Seat exactly ``master_ids`` (add or remove masters mid-conversation; at least one). A
        conversation with one master left becomes a plain chat with that master again (its
        ``master_id``). Raises ``NotFoundError``, :class:`~.service.InvalidMessageError`."""
        conversation = self.chat._conversation(conversation_id, caller)
        seated = self.seat(master_ids, minimum=1)
        if len(seated) == 1:
            return self.chat.repo.set_members(conversation.id, None, master_id=seated[0])
        # the conversation's own master leaves with its seat: the first still seated takes its place
        master_id = None if conversation.master_id in seated else seated[0]
        return self.chat.repo.set_members(conversation.id, seated, master_id=master_id)

    # -- stored rounds ---------------------------------------------------------------------------
    def send(self, content: str, *, master_ids: Sequence[str] | None = None, master_id: str | None = None,
             conversation_id: str | None = None, backend: str | None = None, params: SamplingParams | None = None,
             listener: Listener | None = None, caller: Caller = LOCAL, rounds: int = 1) -> Generation:
        """Send ``content`` to a round table and start its round(s).

        A new table with ``master_ids`` (2 to :data:`MAX_START` masters), or ``conversation_id``:
        an existing table, or any conversation whose message ``@``-mentions another master (who
        joins; the conversation becomes a table), a new one with ``master_id`` included. Anything
        else is an ordinary turn (:meth:`ChatService.send`). ``rounds``: rounds in a row (each master may speak again,
        answering the others; the person's message is stored once). Raises what
        :meth:`ChatService.send` raises; :class:`~.service.InvalidMessageError` for bad members.
        """
        text = _validate(content)
        self.chat._check_backend(backend)
        if conversation_id is None:
            if master_ids:
                seated = self.seat(master_ids, maximum=MAX_START)
                plan = self._plan(text, seated, None)
            else:
                plan = self._first_mentions(text, master_id)
                if plan is None:
                    return self.chat.send(content, master_id=master_id, backend=backend, params=params,
                                          listener=listener, caller=caller)
                seated = self.seat(plan.members, maximum=MAX_START)  # mentions start a table within the same limits
            conversation, user, _ = self.chat.repo.start_turn(None, text, master_id=seated[0], answer=False,
                                                              owner_id=caller.user_id, members=plan.members)
            return self._launch(_Round(conversation, user, text, [], plan, rounds, backend, params), listener)
        if master_ids:
            raise InvalidMessageError("Send master_ids only to start a round table; add masters to one with its members.")
        conversation = self.chat._conversation(conversation_id, caller)
        if not conversation.members and "@" not in text and "＠" not in text:  # a plain turn: no extra reads
            return self.chat.send(content, conversation_id=conversation.id, backend=backend, params=params,
                                  listener=listener, caller=caller)
        self.chat._claim(conversation.id)
        try:
            messages = self.chat.repo.messages(conversation.id)
            plan = self._plan(text, conversation.master_ids, _last_speaker(conversation, messages))
            if not conversation.members and not plan.joined:
                self.chat._release(conversation.id)
                return self.chat.send(content, conversation_id=conversation.id, backend=backend, params=params,
                                      listener=listener, caller=caller)
            if plan.joined:
                self.seat(plan.members, minimum=1)  # masters mentioned in join only up to MAX_MEMBERS
            conversation, user, _ = self.chat.repo.start_turn(
                conversation.id, text, answer=False, members=plan.members if plan.joined else None)
        except BaseException:
            self.chat._release(conversation.id)
            raise
        return self._launch(_Round(conversation, user, text, _stored(conversation, messages), plan, rounds, backend,
                                   params), listener)

    def regenerate(self, conversation_id: str, *, backend: str | None = None, params: SamplingParams | None = None,
                   listener: Listener | None = None, caller: Caller = LOCAL, new_text: str | None = None) -> Generation:
        """Run the last round again (every reply after the last user message is replaced), or with
        ``new_text`` edit that message and resend it. A conversation with one master goes to
        :meth:`ChatService.regenerate` / :meth:`ChatService.edit_last`. Raises ``NotFoundError``,
        :class:`~.service.InvalidMessageError`."""
        conversation = self.chat._conversation(conversation_id, caller)
        text = _validate(new_text) if new_text is not None else None
        if not conversation.members:
            if text is None:
                return self.chat.regenerate(conversation.id, backend=backend, params=params, listener=listener,
                                            caller=caller)
            return self.chat.edit_last(conversation.id, text, backend=backend, params=params, listener=listener,
                                       caller=caller)
        self.chat._check_backend(backend)
        self.chat._claim(conversation.id)
        try:
            messages = self.chat.repo.messages(conversation.id)
            last_user = next((m for m in reversed(messages) if m.role == "user"), None)
            if last_user is None:
                raise InvalidMessageError("This conversation has no message to answer again.")
            before = [m for m in messages if m.id < last_user.id]
            message = text if text is not None else last_user.content
            plan = self._plan(message, conversation.master_ids, _last_speaker(conversation, before))
            conversation, user, _ = self.chat.repo.restart_turn(conversation.id, last_user.id, text, answer=False)
            if plan.joined:
                self.seat(plan.members, minimum=1)
                conversation = self.chat.repo.set_members(conversation.id, plan.members)
        except BaseException:
            self.chat._release(conversation.id)
            raise
        return self._launch(_Round(conversation, user or last_user, message, _stored(conversation, before), plan, 1,
                                   backend, params), listener)

    def regenerate_reply(self, conversation_id: str, message_id: int, *, backend: str | None = None,
                         params: SamplingParams | None = None, listener: Listener | None = None,
                         caller: Caller = LOCAL) -> Generation:
        """Generate one reply of a round table again, in place: same speaker, same place, hearing
        the replies before it in its round (those after it stay). Events as for a round with that
        one speaker. Raises ``NotFoundError`` (no such reply in the caller's conversation) and
        :class:`~.service.InvalidMessageError` (busy, unknown backend)."""
        self.chat._check_backend(backend)
        conversation = self.chat._conversation(conversation_id, caller)
        self.chat._claim(conversation.id)
        try:
            messages = self.chat.repo.messages(conversation.id)
            target = next((m for m in messages if m.id == message_id and m.role == "assistant"), None)
            user = next((m for m in reversed(messages) if m.role == "user" and target and m.id < target.id), None)
            if target is None or user is None:
                raise NotFoundError(f"no reply {message_id} in conversation {conversation_id}")
            speaker = target.master_id or conversation.master_id
            self.master(speaker)
            heard = [(m.master_id or conversation.master_id, m.content) for m in messages
                     if user.id < m.id < target.id and m.role == "assistant" and m.content.strip()]
            if self.chat.repo.reset_message(target.id) is None:
                raise InvalidMessageError("This reply is still being generated; stop it first.")
        except BaseException:
            self.chat._release(conversation.id)
            raise
        plan = RoundPlan([speaker], conversation.master_ids, summary=wants_summary(user.content))
        job = _Round(conversation, user, user.content, _stored(conversation, [m for m in messages if m.id < user.id]),
                     plan, 1, backend, params, heard, redo=target.id)
        return self._launch(job, listener)

    # -- unstored rounds (/v1, the command line) ---------------------------------------------------
    def complete(self, master_ids: Sequence[str], history: Sequence[ChatMessage], message: str, *,
                 params: SamplingParams | None = None, listener: Listener | None = None, rounds: int = 1,
                 backend: str | None = None, client_system: str | None = None) -> Generation:
        """A round that is not stored: ``master_ids`` (2 to :data:`MAX_MEMBERS`) answer ``message``
        after ``history`` (earlier assistant messages count as the table's, heard by everyone).
        ``client_system``: a client's own system text, after each master's instructions. Events as
        for a stored round, without ids. Raises :class:`~.service.InvalidMessageError`."""
        text = _validate(message)
        self.chat._check_backend(backend)
        seated = self.seat(master_ids)
        before = [(m.role, TABLE, m.content) for m in history]
        job = _Round(None, None, text, before, self._plan(text, seated, None), rounds, backend, params,
                     client_system=client_system)
        return self._launch(job, listener)

    # -- running a round -------------------------------------------------------------------------
    def _first_mentions(self, text: str, master_id: str | None) -> RoundPlan | None:
        """The plan of a new conversation's first message to ``master_id`` that ``@``-mentions
        other masters (they join: it starts as a round table), else ``None`` (a plain chat)."""
        if not master_id or ("@" not in text and "＠" not in text):
            return None
        try:
            master = self.master(master_id)
        except InvalidMessageError:  # unknown (the plain chat says so) or the guide (no tables)
            return None
        plan = self._plan(text, [master.id], None)
        return plan if plan.joined else None

    def _plan(self, text: str, members: Sequence[str], last: str | None) -> RoundPlan:
        return self.chair.plan(text, members, self.names(), last_speaker=last)

    def _launch(self, job: _Round, listener: Listener | None) -> Generation:
        gen = Generation(job.conversation, job.user)
        if listener is not None:
            gen.on_event(listener)
        gen.on_event(lambda event: self._read_ahead(gen, job, event))  # after the listener: it sees the delta first
        if job.conversation is not None:
            with self.chat._lock:
                self.chat._active[job.conversation.id] = gen
        self.chat.pool.submit(self._run, gen, job)
        return gen

    def _run(self, gen: Generation, job: _Round) -> None:
        conv, spoke, status = job.conversation, [], "complete"
        try:
            start = {"members": job.plan.members, "joined": job.plan.joined, "round": True}
            if conv is not None:
                start.update(conversation_id=conv.id, user_message_id=job.user.id, title=conv.title, master_id=conv.master_id)
            gen.emit(Event("start", start))
            plan = job.plan
            for number in range(job.rounds):
                if number:
                    plan = self._plan(job.text, plan.members, spoke[-1] if spoke else None)
                for index, speaker in enumerate(plan.speakers):
                    if gen.stopping:
                        break
                    job.ahead = plan.speakers[index + 1] if index + 1 < len(plan.speakers) else None
                    job.ahead_prompt, job.speaking, job.ahead_chars = None, speaker, 0
                    final = self._speak(gen, job, speaker, plan.summary)
                    spoke.append(speaker)
                    if final == "guard":
                        status = "guard"
                        break
                if gen.stopping or status == "guard" or plan.summary:
                    break
            if gen.stopping:
                status = "stopped"
            gen.emit(Event("round", {"status": status, "speakers": spoke}))
        except Exception as exc:  # noqa: BLE001 - reported to the caller; each reply was stored as it ended
            gen.emit(Event("error", {"code": _error_code(exc), "message": str(exc)}))
        finally:
            if conv is not None:
                self.chat._release(conv.id)
            gen.end()

    def _speak(self, gen: Generation, job: _Round, speaker: str, summary: bool) -> str | None:
        """One speaker's reply (stored when the round is): returns its finish reason, or ``None``
        when it failed before streaming (reported as an ``error`` event for that speaker)."""
        chat, conv = self.chat, job.conversation
        master = self.master(speaker)
        lang = detect_language(job.text)
        message_id = None
        if conv is not None:
            label = chat._label(speaker, job.backend)
            message_id = job.redo or chat.repo.start_assistant(conv.id, model=label, master_id=speaker).id
        gen.next_answer(message_id)
        who = {"master_id": speaker, "name": master.name.get(lang)}
        gen.emit(Event("speaker", {**who, "name_zh": master.name.zh, "name_en": master.name.en, "avatar": master.avatar,
                                   "avatar_image": master.avatar_image, "message_id": message_id, "summary": summary}))
        names = {mid: self._name(mid, lang) for mid, _ in job.heard}
        try:
            if chat.loader is not None:
                chosen = chat.engine.registry.get(job.backend or master.model or None)
                chat.loader.wait(chosen, lambda: gen.emit(Event("loading", {"message": "The model is still loading…"})))
            history, said = self._histories(job, speaker, lang)
            addendum = round_addendum([(names[mid], text) for mid, text in job.heard], lang, summary=summary)
            turn = chat.engine.stream(master, history, job.text, backend=job.backend, params=job.params, defer=True,
                                      addendum=addendum or None, client_system=job.client_system, safety_history=said)
            gen.context = _context(turn)
            if gen.context["dropped_turns"] or gen.context["notes"]:
                gen.emit(Event("context", {**gen.context, **who}))
            if message_id is not None:
                chat._finish(gen, turn, message_id, extra=who)
                text = gen.final.data.get("text", "") if gen.final else ""
            else:
                text, usage, notes, _, safety = pump(gen, turn)
                gen.emit(Event("done", {**who, "text": text, "usage": usage.to_dict(), "notes": notes, "safety": safety,
                                        "finish_reason": usage.finish_reason}))
            reason = turn.reply.usage.finish_reason if turn.reply else None
        except Exception as exc:  # noqa: BLE001 - this speaker failed; the round goes on
            if message_id is not None:
                chat.repo.finish_message(message_id, "", "error", error=str(exc))
            gen.emit(Event("error", {**who, "code": _error_code(exc), "message": str(exc), "message_id": message_id}))
            return None
        if text.strip():
            job.heard.append((speaker, text))
        return reason

    def _histories(self, job: _Round, speaker: str, lang: str) -> tuple[list[ChatMessage], list[ChatMessage]]:
        """What ``speaker`` reads before the person's message (:func:`~.chair.speaker_history`), and
        the conversation as the safety guard rates it (everyone's words as they were)."""
        history = speaker_history(job.before, speaker, lambda mid: self._name(mid, lang), lang)
        return history, [ChatMessage(role, content) for role, _, content in job.before if role in ("user", "assistant")]

    def _read_ahead(self, gen: Generation, job: _Round, event: Event | None) -> None:
        """While a speaker who has a successor in the round streams, have the backend read the
        successor's prompt ahead: at the first delta, then each time the reply has grown by
        :data:`READ_AHEAD_STEP` characters, up to the end of the reply so far (the person's
        message, then :func:`~.chair.round_addendum` with ``partial=True``: the chair's request and
        the replies, this one as far as it got — a prefix of the successor's final prompt), so that
        when its turn comes only the end of this reply (less than a step) and a closing line are
        left to read. The backend skips a request while it still reads the previous one (see
        :func:`~masterhall.backends.base.preread`). Never breaks the round."""
        if event is None or event.type != "delta" or job.ahead is None or gen.stopping or not self.preread \
                or job.ahead_prompt is False:
            return
        try:
            if job.ahead_prompt is None:
                lang = detect_language(job.text)
                history, said = self._histories(job, job.ahead, lang)
                job.ahead_prompt = self.chat.engine.preread(
                    self.master(job.ahead), history, job.text, backend=job.backend, params=job.params,
                    client_system=job.client_system, safety_history=said) or False
                return
            backend, messages = job.ahead_prompt
            text = gen.text
            if len(text) - job.ahead_chars < READ_AHEAD_STEP:
                return
            job.ahead_chars = len(text)
            lang = detect_language(job.text)  # once a step, not on every delta
            heard = [(self._name(mid, lang), said) for mid, said in job.heard]
            addendum = round_addendum(heard + [(self._name(job.speaking, lang), text)], lang, partial=True)
            preread(backend, messages[:-1] + [ChatMessage(messages[-1].role, messages[-1].content + addendum)])
        except Exception:  # noqa: BLE001 - reading ahead is an optimisation, never an error
            job.ahead_prompt = False

    def _name(self, master_id: str | None, lang: str) -> str:
        master = self.chat.engine.catalog.masters.get(master_id or "")
        if master is not None:
            return master.name.get(lang)
        return master_id or ("圆桌" if lang == "zh" else "The round table")


def _stored(conversation: Conversation, messages: Sequence[Message]) -> list[tuple[str, str | None, str]]:
    """Stored messages as ``(role, master_id, content)``; an answer without a master id is the
    conversation's master's. Answers that failed or came back empty are left out."""
    return [(m.role, (m.master_id or conversation.master_id) if m.role == "assistant" else None, m.content)
            for m in messages if m.content.strip() and m.status != "error"]


def _last_speaker(conversation: Conversation, messages: Sequence[Message]) -> str | None:
    """Who wrote the conversation's last answer (``None`` when none)."""
    last = next((m for m in reversed(messages) if m.role == "assistant"), None)
    return (last.master_id or conversation.master_id) if last else None
