"""The safety guard: one object that rates a turn, answers a crisis, and checks risky replies.

``assess(history, message)`` combines three layers into an :class:`Assessment`:

1. the deterministic rules (:mod:`.rules`): a clear statement is a crisis at once;
2. the classifier (:mod:`.classifier`): ``score >= crisis_threshold`` is a crisis, ``score >=
   elevated_threshold`` is *elevated* (the reply is checked before it is shown, :mod:`.output`);
3. the conversation: the scores of the last :data:`WINDOW` user messages, decayed by
   ``decay`` per turn back, are combined as a noisy-or (``1 - Π (1 - decay^i · s_i)``); when the
   current message and an earlier one are at least elevated and the combination reaches
   ``conversation`` the turn is a crisis. A conversation in which a crisis was answered stays
   *careful*: the master's system prompt gets :func:`~.help.careful_note` for the rest of it.

A message with a cue of a harmless reading (a figure of speech or hyperbole, a game, travel or
work, an accident, someone else's death: :data:`~.rules.GATE_CUES`), or a very short one, that no
rule fires on is at most *elevated* on its own score — its reply is checked and gets a help line
instead of being replaced, unless it scores at :attr:`Thresholds.certain`. A gate counts only for the kinds it can explain
(:data:`~.rules.GATE_KINDS`, read against the kind of the nearest crisis exemplar): a move or a
job explains a farewell, not a threat or a beating. A very short message is not rated at all
unless it scores at the crisis threshold (then *elevated*) or an earlier message was rated.

Thresholds (defaults) were chosen on ``evalsets/safety-dev.jsonl`` with the ordinary advice questions
of ``evalsets/safety-ordinary-dev.jsonl``: the crisis threshold is the
lowest that keeps false alarms under 4 %, the elevated threshold sits below the lowest-scored
crisis message that no rule catches, so every dev crisis message is at least checked. Figures
on ``evalsets/safety-heldout-2.jsonl`` (held out) are in the README. Without an encoder (or while it cannot load) the
guard runs on the rules alone and says so in the record (``semantic: false``).
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Sequence

from .classifier import KIND_MIN_SHARE, VICTIM_MIN_SHARE, CrisisClassifier, Exemplar
from .help import about_someone_else, careful_note, help_answer, help_openings, resolve_region
from .output import check_reply
from .rules import CUE_NAMES, GATE_CUES, GATE_KINDS, cue_features, match_rules

#: User messages (the current one included) that the conversation signal reads.
WINDOW = 4
#: A gate that explains only some kinds counts when one of this many nearest crisis exemplars is
#: of such a kind (chosen by cross-validation on the bank, ``bench/safety_cv.py``).
GATE_NEIGHBOURS = 1

_WORD = re.compile(r"[A-Za-z0-9']+")
_HAN = re.compile(r"[\u3400-\u9fff]")


def _short(text: str) -> bool:
    """Fewer than four words (a Han character counts as half a word): too little for the
    classifier to call a crisis on its own ("hi", "go on", "你好")."""
    return len(_WORD.findall(text)) + len(_HAN.findall(text)) / 2 < 4


@dataclass(frozen=True)
class Thresholds:
    """Decision thresholds on the classifier's probability (see the module docstring)."""

    crisis: float = 0.35
    elevated: float = 0.2
    #: At or above this score a cue of a harmless reading no longer caps the message at elevated:
    #: "Retired, wife gone, kids far away … better off if I just stopped existing" names work
    #: (retirement) and scored 0.99; "rope is in the garage, just waiting for everyone to leave for
    #: the holiday" names a holiday and scored 0.88. Chosen on dev, dev 2 and the out-of-fold bank
    #: (0.9 → 0.75: recall 0.924 → 0.949 on dev 2, 0.949 → 0.960 out of fold, false alarms unchanged
    #: on the dev sets, +4 of 2,126 out of fold).
    certain: float = 0.75
    conversation: float = 0.6
    #: A message whose nearest exemplar has a cosine similarity below this is like nothing in the
    #: bank (a word list, code, a table): its score is noise, so on its own it is not rated (the
    #: rules still apply). No crisis message of the dev, test or held-out sets is that far (lowest:
    #: 0.47 on dev, 0.40 held out).
    far: float = 0.35
    decay: float = 0.6


@dataclass
class Assessment:
    """The guard's rating of one turn.

    ``level``: ``crisis`` (answer with help, no model call), ``elevated`` (check the reply) or
    ``none``. ``kind``: the crisis kind (``suicide``, ``self_harm``, ``abuse``,
    ``sexual_violence``, ``medical``, ``harm_others``). ``source``: ``rule``, ``classifier`` or
    ``conversation``; ``rule`` / ``matched``: the rule id and text when a rule fired; ``score``:
    the classifier's probability for this message (``None`` without the semantic layer);
    ``conversation_score``: the noisy-or over the last turns; ``careful``: a crisis was answered
    earlier in this conversation; ``lang`` / ``region``: for the help answer.
    """

    level: str = "none"
    kind: str | None = None
    source: str | None = None
    rule: str | None = None
    matched: str | None = None
    score: float | None = None
    conversation_score: float | None = None
    careful: bool = False
    lang: str = "en"
    region: str = "US"
    semantic: bool = True
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def crisis(self) -> bool:
        """True for ``level == "crisis"``."""
        return self.level == "crisis"

    def record(self) -> dict[str, Any] | None:
        """What is stored on the message for an audit (``None`` for an ordinary turn)."""
        if self.level == "none" and not self.careful:
            return None
        out = {"level": self.level, "kind": self.kind, "source": self.source, "rule": self.rule, "matched": self.matched,
               "score": None if self.score is None else round(self.score, 4),
               "conversation_score": None if self.conversation_score is None else round(self.conversation_score, 4),
               "careful": self.careful, "region": self.region, "semantic": self.semantic, **self.extra}
        return {k: v for k, v in out.items() if v is not None}


class SafetyGuard:
    """Rates turns (:meth:`assess`), writes help answers and checks replies.

    ``encoder``: the sentence encoder shared with the Finder (``None``: rules only). ``region``:
    the operator's ``crisis_region`` (``None``: from the message language). ``bank``: the
    exemplars (default: the shipped bank). ``cache_dir``: where the fit is kept between runs
    (``None``: memory only). The classifier is fitted once, by :meth:`start` in
    the background or on the first :meth:`assess` (callers wait); ``ready`` / ``state`` /
    ``error_message`` say where it stands, ``prepare_seconds`` what it cost.
    """

    def __init__(self, encoder=None, *, region: str | None = None, thresholds: Thresholds | None = None,
                 bank: Sequence[Exemplar] | None = None, classifier: CrisisClassifier | None = None, cache_dir=None):
        self.region_setting = region
        self.thresholds = thresholds or Thresholds()
        self.classifier = classifier or (CrisisClassifier(encoder, bank, cache_dir=cache_dir) if encoder is not None else None)
        self.state = "idle" if self.classifier is not None else "rules-only"
        self.error_message: str | None = None
        self.prepare_seconds = 0.0
        self._lock = threading.Lock()
        self._scores: OrderedDict[str, tuple] = OrderedDict()
        self._openings = help_openings()

    # -- start-up ---------------------------------------------------------------------------
    @property
    def ready(self) -> bool:
        """True once the classifier is fitted (or when there is none: rules only)."""
        return self.classifier is None or self.classifier.fitted or self.state == "error"

    def start(self) -> None:
        """Fit the classifier in a background thread (server start-up)."""
        threading.Thread(target=self.prepare, name="safety-prepare", daemon=True).start()

    def prepare(self) -> None:
        """Encode the bank and fit the classifier now (once; thread-safe). Failures leave the
        guard on its rules (``state == "error"``) instead of raising."""
        if self.classifier is None or self.classifier.fitted:
            return
        with self._lock:
            if self.classifier.fitted or self.state == "error":
                return
            self.state = "preparing"
            start = time.perf_counter()
            try:
                self.classifier.fit()
                self.state = "ready"
            except Exception as exc:  # noqa: BLE001 - the rules still guard every turn
                self.state, self.error_message = "error", f"{exc.__class__.__name__}: {exc}"
            self.prepare_seconds = time.perf_counter() - start

    # -- rating -----------------------------------------------------------------------------
    def region(self, lang: str) -> str:
        """The region whose resources answers name for a message in ``lang``."""
        return resolve_region(self.region_setting, lang)

    def _score(self, text: str) -> float | None:
        """Classifier probability of ``text`` (cached by text, 512 entries), or ``None``."""
        entry = self._scored(text)
        return None if entry is None else entry[0]

    def _scored(self, text: str):
        """``(probability, vector or None)`` of ``text``, cached; ``None`` without a classifier.
        A message a rule fires on counts as 1.0 without being encoded."""
        if self.classifier is None:
            return None
        self.prepare()
        if not self.classifier.fitted:
            return None
        if text in self._scores:
            self._scores.move_to_end(text)
            return self._scores[text]
        entry = (1.0, None) if match_rules(text) else self.classifier.score(text[:2000])
        self._scores[text] = entry
        while len(self._scores) > 512:
            self._scores.popitem(last=False)
        return entry

    def assess(self, history: Sequence[Any], message: str, lang: str = "en") -> Assessment:
        """Rate ``message`` given ``history`` (items with ``role`` and ``content``, oldest first)."""
        start = time.perf_counter()
        t = self.thresholds
        users = [m.content for m in history if getattr(m, "role", None) == "user"]
        assistants = [m.content for m in history if getattr(m, "role", None) == "assistant"]
        a = Assessment(lang=lang, region=self.region(lang), semantic=self.classifier is not None and self.state != "error")
        a.careful = any(any(c.startswith(o) for o in self._openings) for c in assistants) or any(match_rules(u) for u in users)
        hit = match_rules(message)
        score = self._score(message)
        a.score = score
        if hit is not None:
            a.level, a.kind, a.source, a.rule, a.matched = "crisis", hit.kind, "rule", hit.rule, hit.matched
        elif score is not None:
            earlier = [self._score(u) or 0.0 for u in users[-(WINDOW - 1):]][::-1]  # most recent first
            if any(s >= t.crisis for s in earlier):
                a.careful = True
            keep = 1.0
            for i, s in enumerate([score] + earlier):
                keep *= 1.0 - (t.decay ** i) * s
            a.conversation_score = 1.0 - keep
            vector = self._scored(message)[1]
            near = ["suicide"]
            if vector is not None and self.classifier is not None:
                near = (self.classifier.kinds_near(vector, GATE_NEIGHBOURS) if hasattr(self.classifier, "kinds_near")
                        else [self.classifier.kind_of(vector)])
            kind = near[0]
            cues = cue_features(message)
            gate = [n for n, v in zip(CUE_NAMES, cues)
                    if v and n in GATE_CUES and (GATE_KINDS.get(n) is None or any(k in GATE_KINDS[n] for k in near))]
            gate += ["short"] if _short(message) else []
            if vector is not None and self.classifier is not None and hasattr(self.classifier, "nearest_similarity") \
                    and self.classifier.nearest_similarity(vector) < t.far:
                gate.append("far")
            if gate:
                a.extra["gate"] = ",".join(gate)
            if score >= t.crisis and (not gate or (score >= t.certain and "short" not in gate)):
                a.level, a.source = "crisis", "classifier"
            elif score >= t.elevated and any(s >= t.elevated for s in earlier) and a.conversation_score >= t.conversation:
                a.level, a.source = "crisis", "conversation"
            elif gate == ["short"] and score >= t.crisis:
                a.level, a.source = "elevated", "classifier"  # "我打算今晚就走": too short to answer with help alone, too close to ignore
            elif ("short" in gate or "far" in gate) and not a.careful and not any(s >= t.elevated for s in earlier):
                pass  # "hi", "谢谢": too short to rate alone; a word list or code: like nothing in the bank
            elif score >= t.elevated or (a.careful and a.conversation_score >= t.elevated):
                a.level, a.source = "elevated", "classifier"
            if a.level != "none":
                a.kind = self._kind(vector, kind)
        if a.level != "none" and about_someone_else(message):
            a.extra["for"] = "someone else"  # the help answer speaks to the one helping
        a.seconds = time.perf_counter() - start
        return a

    def _kind(self, vector, nearest: str) -> str:
        """The kind of a crisis the classifier found: the kind the nearest crisis exemplars agree
        on (:meth:`~masterhall.safety.CrisisClassifier.kind_vote`); ``suicide`` — the general help,
        crisis line and emergency numbers — when they do not agree enough to name a narrower one
        (abuse, sexual violence, a medical emergency, harm to others: a wrong one would greet a
        person in despair as a victim of violence). ``nearest`` when the classifier cannot vote."""
        if vector is None or self.classifier is None or not hasattr(self.classifier, "kind_vote"):
            return nearest
        kind, share = self.classifier.kind_vote(vector)
        return kind if share >= (VICTIM_MIN_SHARE if kind in ("abuse", "sexual_violence") else KIND_MIN_SHARE) else "suicide"

    # -- answers ----------------------------------------------------------------------------
    def help_answer(self, assessment: Assessment, message: str = "") -> str:
        """The help answer for a crisis ``assessment`` (its kind, language and region)."""
        return help_answer(assessment.kind or "suicide", assessment.lang, assessment.region, message,
                           for_someone_else=assessment.extra.get("for") == "someone else")

    def careful_note(self, assessment: Assessment) -> str:
        """The system-prompt note for a careful conversation."""
        return careful_note(assessment.region)

    def check_reply(self, assessment: Assessment, text: str, message: str = "") -> tuple[str, str]:
        """``(text to show, action)`` for a reply to an elevated message (see :mod:`.output`)."""
        return check_reply(text, lang=assessment.lang, region=assessment.region, kind=assessment.kind or "suicide", seed=message,
                           for_someone_else=assessment.extra.get("for") == "someone else")
