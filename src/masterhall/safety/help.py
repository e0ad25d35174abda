"""The help answer: warm, short, in the person's language, naming resources of the operator's region.

Regions (setting ``crisis_region``; when unset: ``CN`` for Chinese messages, ``US`` otherwise):

* ``CN`` — 12356 national mental-health hotline (National Health Commission, nationwide from
  1 Jan 2025); 110 police, 120 ambulance; 12338 All-China Women's Federation rights line.
* ``US`` — 988 Suicide & Crisis Lifeline (call or text, since July 2022); 911; National Domestic
  Violence Hotline 1-800-799-7233; RAINN 1-800-656-4673; Poison Help 1-800-222-1222.
* ``UK`` — Samaritans 116 123 (free, 24 h); 999 or 112; Refuge 0808 2000 247; Rape Crisis
  0808 500 2222.
* ``IE`` — Samaritans 116 123; 112 or 999; Women's Aid 1800 341 900; Rape Crisis Helpline 1800 77 8888.
* anything else (``OTHER``) — findahelpline.com (ThroughLine's directory of free lines by
  country) and 112, the emergency number that works from mobiles in the EU and many other countries.

Sources are listed in the README (*Safety*). Each kind of crisis gets an opening of its own; the
suicide opening has three variants, chosen by the message so that a repeat reads differently.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

REGIONS = ("CN", "US", "UK", "IE", "OTHER")
_ALIASES = {"GB": "UK", "UK": "UK", "USA": "US", "PRC": "CN", "ZH": "CN", "IRELAND": "IE"}


def resolve_region(setting: str | None, lang: str) -> str:
    """The region whose resources a help answer names: ``setting`` (case-insensitive; ``GB`` =
    ``UK``; unknown codes = ``OTHER``), else ``CN`` for ``lang == "zh"`` and ``US`` otherwise."""
    if setting:
        code = setting.strip().upper()
        code = _ALIASES.get(code, code)
        return code if code in REGIONS else "OTHER"
    return "CN" if lang == "zh" else "US"


@dataclass(frozen=True)
class Resources:
    """A region's numbers: ``crisis`` line, ``emergency`` numbers, ``abuse`` and ``sexual`` lines."""

    crisis: dict[str, str]
    emergency: dict[str, str]
    abuse: dict[str, str]
    sexual: dict[str, str]


_RES = {
    "CN": Resources(
        {"zh": "全国心理援助热线 **12356**", "en": "the national mental-health line **12356**"},
        {"zh": "**110**（报警）或 **120**（急救）", "en": "**110** (police) or **120** (ambulance)"},
        {"zh": "全国妇联维权热线 **12338**", "en": "the Women's Federation line **12338**"},
        {"zh": "报警电话 **110**", "en": "the police on **110**"},
    ),
    "US": Resources(
        {"zh": "**988** 自杀与危机生命线（可打电话或发短信）", "en": "the **988** Suicide & Crisis Lifeline (call or text)"},
        {"zh": "**911**", "en": "**911**"},
        {"zh": "全国家庭暴力热线 **1-800-799-7233**", "en": "the National Domestic Violence Hotline **1-800-799-7233**"},
        {"zh": "RAINN 热线 **1-800-656-4673**", "en": "RAINN at **1-800-656-4673**"},
    ),
    "UK": Resources(
        {"zh": "Samaritans **116 123**（免费，24 小时）", "en": "Samaritans on **116 123** (free, 24 hours)"},
        {"zh": "**999** 或 **112**", "en": "**999** or **112**"},
        {"zh": "Refuge 热线 **0808 2000 247**", "en": "Refuge on **0808 2000 247**"},
        {"zh": "Rape Crisis **0808 500 2222**", "en": "Rape Crisis on **0808 500 2222**"},
    ),
    "IE": Resources(
        {"zh": "Samaritans **116 123**（免费，24 小时）", "en": "Samaritans on **116 123** (free, 24 hours)"},
        {"zh": "**112** 或 **999**", "en": "**112** or **999**"},
        {"zh": "Women's Aid **1800 341 900**", "en": "Women's Aid on **1800 341 900**"},
        {"zh": "Rape Crisis Helpline **1800 77 8888**", "en": "the Rape Crisis Helpline on **1800 77 8888**"},
    ),
    "OTHER": Resources(
        {"zh": "findahelpline.com 上列出的当地免费求助热线", "en": "a free local line listed on **findahelpline.com**"},
        {"zh": "当地急救电话（很多国家可拨 **112**）", "en": "your local emergency number (**112** works in many countries)"},
        {"zh": "当地的反家暴热线（findahelpline.com 可查）", "en": "a domestic-violence line listed on findahelpline.com"},
        {"zh": "当地报警电话或性侵救助热线", "en": "the police or a sexual-assault line listed on findahelpline.com"},
    ),
}

_OPEN = {
    "zh": {
        "suicide": ["谢谢你愿意告诉我。你现在承受的东西听起来很重，你不必一个人扛着。",
                    "听到你这么说，我很担心你。你很重要，你现在值得有人陪着。",
                    "我在听，也很在乎你现在安不安全。这种痛是真实的，但它不必由你独自面对。"],
        "self_harm": ["谢谢你信任我。伤害自己往往说明心里太痛了——你值得被好好照顾，而不是更多的痛。"],
        "abuse": ["你说的事情不对，也不是你的错。你有权利安全地生活。"],
        "sexual_violence": ["发生这样的事，我很难过。这不是你的错，你值得被支持和照顾。"],
        "medical": ["这听起来是紧急情况，请现在就求助。"],
        "harm_others": ["听起来你现在非常激动和痛苦。在任何事情发生之前，请先离开可能被你伤害的人，找人帮忙。"],
    },
    "en": {
        "suicide": ["Thank you for telling me. What you're carrying sounds heavy, and you don't have to hold it alone.",
                    "I'm really glad you said this, and I'm worried about you. You matter, and you deserve someone with you right now.",
                    "I hear you, and I care whether you're safe. This pain is real, but you don't have to face it by yourself."],
        "self_harm": ["Thank you for trusting me with this. Hurting yourself tells me how much pain you're in — "
                      "you deserve care, not more pain."],
        "abuse": ["What you describe is not okay, and it is not your fault. You deserve to be safe."],
        "sexual_violence": ["I'm so sorry this happened to you. It was not your fault, and you deserve support and care."],
        "medical": ["This sounds like an emergency — please get help right now."],
        "harm_others": ["It sounds like you're under huge strain right now. Before anything happens, please step away from anyone "
                        "you could hurt and reach out for help."],
    },
}

_CLOSE = {
    "zh": ["我是 AI，替代不了真人的帮助，但我愿意继续陪你聊。你现在安全吗？",
           "如果可以，也告诉一个你信任的人。我会在这里陪你——你现在在哪里，身边有人吗？"],
    "en": ["I'm an AI and can't replace a real person, but I'm here to keep talking. Are you safe right now?",
           "If you can, let someone you trust know too. I'm here with you — where are you right now, is anyone with you?"],
}


# -- asking for someone else ----------------------------------------------------------------
_PERSON_ZH = re.compile(r"我(?:的)?(?:妈妈?|爸爸?|母亲|父亲|朋友|好友|闺蜜|兄弟|同学|同事|室友|舍友|姐姐?|哥哥?|弟弟?|妹妹?|老公|老婆|丈夫|"
                        r"妻子|男朋友|女朋友|对象|儿子|女儿|孩子|奶奶|爷爷|外婆|外公|姥姥|姥爷|学生)|他|她|对方")
#: A question of how to help another: the verb takes someone else (never "自己" or "我").
_HELP_ZH = re.compile(r"(?:怎么|怎样|如何|该怎么|要怎么)(?:才能|才可以|去)?(?:劝|陪|帮助?|开导|安慰|照顾|支持)(?!自己|我)"
                      r"|(?:怎么|如何)(?:跟|和|对)(?:他|她|对方)(?:说|讲|开口)"
                      r"|怎么办.{0,4}(?:帮|陪|劝)(?:他|她)|(?:能|可以|该)为(?:他|她)做(?:点|些)?什么")
_PERSON_EN = re.compile(r"\b(?:my (?:mom|mum|mother|dad|father|friend|best friend|brother|sister|son|daughter|kid|child|husband|wife|"
                        r"partner|boyfriend|girlfriend|roommate|flatmate|colleague|coworker|student|grandma|grandpa|grandmother|"
                        r"grandfather|aunt|uncle|cousin)|he|she|they|him|her|them)\b", re.I)
#: The same in English (never "help myself", "support me").
_HELP_EN = re.compile(r"\b(?:how (?:do|can|should|could|would) (?:i|we) (?:help|support|talk to|reach|cheer (?:him|her|them) up|"
                      r"comfort|be there for|respond to|get through to)(?! (?:myself|me|ourselves|us)\b)"
                      r"|what (?:do|should|can) (?:i|we) (?:do|say)(?: to| for)? (?:him|her|them|my\b))", re.I)


def about_someone_else(text: str) -> bool:
    """True when ``text`` asks how to help another person (a parent, a friend, "he"/"she"): "我妈最近
    总说活着没意思，我该怎么陪她？", "my friend keeps saying he wants to disappear, how do I help him?". The
    help answer then speaks to the person asking (the level is unchanged: the other person may be in
    danger). A message that is also about the writer gets an answer that still names help for them."""
    if _HELP_ZH.search(text) and _PERSON_ZH.search(text):
        return True
    return bool(_HELP_EN.search(text) and _PERSON_EN.search(text))


_OTHER = {
    "zh": ("你这么在意对方，这很重要。陪一个人走过这种时候很不容易，你也不必一个人扛。",
           "- 如果对方现在有危险（说了具体的打算、准备了方法，或已经伤害了自己），请马上拨打 {em}，并尽量陪在他/她身边，别让他/她独处。",
           "- 可以陪对方一起联系{crisis}；你也可以自己先打过去，问问怎么陪伴。",
           "- 可以平静、直接地问一句：“你有没有想过结束自己的生命？”——这样问不会让人更想去做，反而会让人觉得被看见。",
           "如果你自己也撑得很辛苦，这些热线同样是为你准备的。你最担心的是什么？他/她最近有没有说过具体的打算？"),
    "en": ("It matters a lot that you're looking out for them. Being there for someone through this is hard, and you don't have to "
           "carry it alone.",
           "- If they are in danger now (a plan, a method at hand, or they have hurt themselves), call {em} and stay with them if you "
           "can; don't leave them alone.",
           "- You can contact {crisis} together with them — or call first yourself to ask how best to support them.",
           "- It's okay to ask them calmly and directly: \"Are you thinking about ending your life?\" Asking does not put the idea in "
           "their head; it often brings relief.",
           "If this is weighing on you too, these lines are there for you as well. What worries you most — have they talked about a "
           "plan?"),
}


def _help_for_someone_else(kind: str, lang: str, res: Resources) -> str:
    """The help answer for a person asking how to help someone else (see :func:`about_someone_else`).

    Asking directly about suicide does not raise the risk: Dazzi, Gribble, Wessely and Fear (2014),
    *Does asking about suicide and related behaviours induce suicidal ideation?*, Psychological Medicine 44(16).
    """
    opening, danger, line, ask, close = _OTHER[lang]
    lines = [opening, "", danger.format(em=res.emergency[lang])]
    if kind == "abuse":
        lines.append(f"- 可以拨打{res.abuse['zh']}，商量怎么帮对方去一个安全的地方。" if lang == "zh"
                     else f"- You can reach {res.abuse['en']} to plan how to help them get safe.")
    elif kind == "sexual_violence":
        lines.append(f"- 可以拨打{res.sexual['zh']}；尽快陪对方去医院。" if lang == "zh"
                     else f"- You can reach {res.sexual['en']}; a hospital can examine them and give emergency medication.")
    lines.append(line.format(crisis=res.crisis[lang]))
    if kind in ("suicide", "self_harm"):
        lines.append(ask)
    lines += ["", close]
    return "\n".join(lines)


def _pick(options: list[str], seed: str) -> str:
    return options[zlib.crc32(seed.encode("utf-8")) % len(options)]


def help_answer(kind: str, lang: str, region: str, seed: str = "", *, for_someone_else: bool = False) -> str:
    """The help answer for a crisis of ``kind`` in ``lang`` (``zh``, else English) naming the
    resources of ``region`` (one of :data:`REGIONS`); ``seed`` (the message) picks the variant.
    ``for_someone_else``: the person asks how to help another (:func:`about_someone_else`): the
    answer speaks to them as the one helping, and still names help for themselves."""
    lang = "zh" if lang == "zh" else "en"
    res = _RES.get(region, _RES["OTHER"])
    if for_someone_else:
        return _help_for_someone_else(kind, lang, res)
    opening = _pick(_OPEN[lang].get(kind, _OPEN[lang]["suicide"]), seed)
    lines = [opening, ""]
    em, crisis = res.emergency[lang], res.crisis[lang]
    if lang == "zh":
        lines.append(f"- 如果你或别人现在有危险，请马上拨打 {em}，或去最近的医院急诊。")
        if kind == "abuse":
            lines.append(f"- 可以拨打{res.abuse['zh']}，并尽量去一个安全的地方。")
        elif kind == "sexual_violence":
            lines.append(f"- 可以拨打{res.sexual['zh']}；尽快去医院，医生能提供检查和紧急用药。")
        # always: a kind named wrongly (an overdose taken on purpose read as only medical) must
        # never leave out the line for the person's despair
        lines.append(f"- 想找人说说话：{crisis}。")
    else:
        lines.append(f"- If you or someone else is in danger now, call {em} or go to the nearest emergency department.")
        if kind == "abuse":
            lines.append(f"- You can reach {res.abuse['en']}, and try to get to a safe place.")
        elif kind == "sexual_violence":
            lines.append(f"- You can reach {res.sexual['en']}; a hospital can examine you and give emergency medication.")
        lines.append(f"- To talk to someone now: {crisis}.")
    lines += ["", _pick(_CLOSE[lang], seed[::-1])]
    return "\n".join(lines)


def help_line(lang: str, region: str) -> str:
    """One sentence naming the region's crisis line, appended to a checked reply that lacks one."""
    res = _RES.get(region, _RES["OTHER"])
    if lang == "zh":
        return f"如果你正在经历很难熬的时刻，随时可以联系{res.crisis['zh']}；有危险时请拨打 {res.emergency['zh']}。"
    return f"If things feel hard to bear, you can reach {res.crisis['en']} any time; in danger, call {res.emergency['en']}."


def careful_note(region: str) -> str:
    """System-prompt note for the rest of a conversation after a crisis answer."""
    res = _RES.get(region, _RES["OTHER"])
    return ("## Care in this conversation\nEarlier in this conversation the person said something that suggested they may be in "
            "danger. Stay warm and careful for the rest of it: never present self-harm, suicide, violence, giving belongings "
            "away or 'final arrangements' as positive, normal or reasonable; never give methods or amounts; check gently how "
            f"they are; when it fits, remind them that {res.crisis['en']} and {res.emergency['en']} are there.")


def has_help(text: str, region: str) -> bool:
    """True when ``text`` already names the region's crisis line or emergency number."""
    res = _RES.get(region, _RES["OTHER"])
    marks = [s.split("**")[1] for s in (res.crisis["en"], res.emergency["en"]) if "**" in s]
    return any(mark in text for mark in marks) or "findahelpline" in text


def help_openings() -> list[str]:
    """Every opening sentence a help answer can start with (to recognise earlier help answers)."""
    return [o for lang in _OPEN.values() for opts in lang.values() for o in opts] + [v[0] for v in _OTHER.values()]
