"""A rubric judge for persona answers: any OpenAI-compatible model scores method and usefulness.

The same rubric is what blind human (or helper) readers use, so scores from a judge model and
from readers can be compared. The judge sees the master's name, what it is for and its method
(the reply recipe, or the start of its instructions), the conversation and the answer — never
which model or prompt produced the answer.
"""

from __future__ import annotations

import json
import re

from ..backends.base import Backend, ChatMessage, Usage
from ..catalog.models import Master, SamplingParams

RUBRIC = """Score the master's answer on two scales.

persona (0-2): does the answer use this master's own method, as described?
  2 = clearly the master's method, fitted to this question (e.g. Socrates answers with probing
      questions; a CBT coach names the thought and tests it; a poet writes the poem in the right form)
  1 = partly: generic advice with some of the method, or the method done clumsily
  0 = not the method: a generic assistant answer, a lecture where the method is questioning,
      out of role, or it talks about itself as an AI model
usefulness (0-2): would a real person who asked this find the answer useful?
  2 = relevant, correct, specific and usable (a concrete next step, a real insight, a correct fix),
      a sensible length, in the person's language
  1 = somewhat useful but generic, partly off-topic, padded, or with a minor error
  0 = useless, wrong, incoherent, repetitive, off-topic, unsafe, or in the wrong language"""

_JSON = re.compile(r"\{[^{}]*\}", re.S)


def method_summary(master: Master, lang: str) -> str:
    """What the judge is told about the master: name, what it is for, and its method."""
    method = master.recipe.get(lang) if master.recipe else [master.instructions.strip()[:600]]
    lines = [f"Master: {master.name.get(lang)} — {master.tagline.get(lang)}", "Method:"]
    lines += [f"- {move}" for move in method]
    return "\n".join(lines)


def judge_prompt(master: Master, lang: str, history: list[dict], question: str, answer: str) -> list[ChatMessage]:
    """The judge's messages: rubric, master, conversation, answer; asks for one JSON object."""
    convo = "\n".join(f"{m['role']}: {m['content']}" for m in history)
    user = (
        f"{RUBRIC}\n\n{method_summary(master, lang)}\n\n"
        + (f"Earlier conversation:\n{convo}\n\n" if convo else "")
        + f"The person asked:\n{question}\n\nThe master answered:\n{answer}\n\n"
        'Reply with one JSON object only: {"persona": 0|1|2, "usefulness": 0|1|2, "why": "<one sentence>"}'
    )
    return [ChatMessage("system", "You are a strict, fair evaluator of advice."), ChatMessage("user", user)]


def parse_scores(text: str) -> dict | None:
    """``{"persona", "usefulness", "why"}`` from the judge's reply, or ``None`` if it has none."""
    for match in _JSON.finditer(text):
        try:
            data = json.loads(match.group(0))
        except json.JSONDecodeError:
            continue
        try:
            persona, useful = int(data["persona"]), int(data["usefulness"])
        except (KeyError, TypeError, ValueError):
            continue
        if 0 <= persona <= 2 and 0 <= useful <= 2:
            return {"persona": persona, "usefulness": useful, "why": str(data.get("why", ""))[:300]}
    return None


def judge_answer(judge: Backend, master: Master, lang: str, history: list[dict], question: str, answer: str) -> dict | None:
    """Ask ``judge`` (temperature 0) to score one answer; ``None`` when its reply has no scores."""
    text = []
    for item in judge.stream_chat(judge_prompt(master, lang, history, question, answer),
                                  SamplingParams(temperature=0.0, max_tokens=200)):
        if not isinstance(item, Usage):
            text.append(item)
    return parse_scores("".join(text))
