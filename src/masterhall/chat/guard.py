"""The safety guard: a deterministic crisis check that answers with real help.

A message that signals suicide, self-harm or violence at home gets a fixed, caring answer that
points to emergency services, crisis hotlines and professionals — whatever master it was sent to
and however small the model is. It is a rule-based check (no model luck), tuned to be specific:
figures of speech ("this deadline is killing me", "笑死我了", "kill a zombie process") and talk
*about* these topics (a novel, a philosopher's view, statistics) do not trigger it.

Hotlines: 988 Suicide & Crisis Lifeline (US), Samaritans 116 123 (UK & Ireland), 112/911/999
emergency numbers, China's 12356 national mental-health hotline (National Health Commission,
2025), Beijing Psychological Crisis Research and Intervention Center 010-82951332, 12338 (All-China
Women's Federation) for domestic violence; findahelpline.com lists lines for other countries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["suicide", "self_harm", "domestic_violence"]

_I = r"(?:i|i'm|im|i am|i've|i'll|me|my|myself)"

# Strong signals: first-person statements; these count on their own.
_EN_STRONG: list[tuple[Kind, str]] = [
    ("suicide", r"\b(?:kill|killing|end|ending|take|taking)\s+(?:my\s*self|myself|my\s+(?:own\s+)?life)\b"),
    ("suicide", r"\bend\s+it\s+all\b"),
    ("suicide", r"\b(?:decided|going|want|wanna|plan|planning|ready|about)\s+to\s+end\s+(?:things|everything|it)\b"),
    ("suicide", r"\b(?:don'?t|do not|no longer)\s+want\s+to\s+be\s+(?:here|around|alive)\s+(?:anymore|any more|any longer)\b"),
    ("suicide", r"\b(?:nobody|no one|no-one)\s+(?:would|will|'d)\s+(?:miss|notice|care)\b.*\b(?:gone|dead|died|disappeared|if i)\b"),
    ("suicide", r"\bkms\b"),
    ("suicide", r"\bhow\s+(?:many|much)\s+(?:pills|tablets|sleeping pills|paracetamol|tylenol)\b.*\b(?:die|kill|lethal|fatal)\b"),
    ("suicide", r"\b(?:pills|tablets)\b.*\b(?:take|swallow)\s+(?:them\s+)?all\b|\b(?:take|swallow)\s+all\s+(?:of\s+)?(?:my|the|these|those)\s+(?:pills|tablets)\b"),
    ("suicide", r"\b(?:want|wanna|wanted|going|plan|planning|ready)\s+(?:to\s+)?die\b"),
    ("suicide", r"\bi\s+(?:just\s+)?(?:want|wish)\s+(?:i\s+(?:was|were)\s+dead|to\s+(?:be\s+)?dead)\b"),
    ("suicide", r"\b(?:don'?t|do not|no longer)\s+want\s+to\s+(?:live|be alive|exist|wake up)\b"),
    ("suicide", r"\b(?:better off|be better)\s+(?:dead|without me)\b"),
    ("suicide", r"\b(?:no|nothing)\s+(?:reason|point)\s+(?:to|in)\s+(?:live|living|going on|being alive)\b"),
    ("suicide", r"\b(?:i'?m|i am|been|feel|feeling)\s+(?:so\s+|really\s+|very\s+)?suicidal\b"),
    ("suicide", r"\bsuicidal\s+(?:thoughts|feelings|again)\b"),
    ("suicide", r"\b(?:i|i'm|i am|i've|been|keep|can't stop)\s+(?:\w+\s+){0,2}(?:thinking|thought|think)\s+(?:about|of)\s+(?:suicide|killing myself|ending (?:it|my life)|dying)\b"),
    ("suicide", r"\b(?:jump|jumping)\s+(?:off|from)\s+(?:a|the|this)\s+(?:bridge|roof|building|cliff|balcony|window)\b"),
    ("suicide", r"\b(?:hang|hanging)\s+myself\b"),
    ("suicide", r"\b(?:overdose|od)\s+on\b|\btake\s+all\s+(?:my|the|these)\s+pills\b"),
    ("suicide", r"\b(?:bought|got|have)\s+a\s+(?:rope|gun)\b.*\b(?:do it|end it|use it)\b"),
    ("suicide", r"\bwrit(?:e|ing|ten)\s+(?:a|my)\s+(?:suicide|goodbye)\s+(?:note|letter)\b"),
    ("suicide", r"\bcan'?t\s+(?:go on|do this anymore|take it anymore)\b.*\b(?:die|dead|end|life)\b"),
    ("self_harm", r"\b(?:hurt|hurting|harm|harming|cut|cutting|burn|burning|injure|injuring)\s+(?:my\s*self|myself)\b"),
    ("self_harm", r"\bself[-\s]?harm(?:ing)?\b"),
    ("self_harm", r"\b(?:cut|cutting|slit|slitting)\s+my\s+(?:wrists?|arms?|legs?|skin)\b"),
    ("domestic_violence", r"\b(?:husband|wife|partner|boyfriend|girlfriend|bf|gf|dad|father|mom|mum|mother|stepdad|stepfather|stepmom|stepmother|parents?|fianc[eé]e?|ex)\s+(?:\w+\s+){0,2}(?:hits?|hitting|beats?|beating|beat|punch(?:es|ed)?|chok(?:es|ed|ing)|kick(?:s|ed)|slap(?:s|ped)|strangl(?:es|ed)|abus(?:es|ed|ing)|hurts?|threaten(?:s|ed)?\s+to\s+kill)\s+(?:me|us|my)\b"),
    ("domestic_violence", r"\b(?:domestic (?:violence|abuse)|afraid to go home|scared to go home)\b"),
    ("domestic_violence", r"\b(?:he|she|they)\s+(?:\w+\s+){0,2}(?:hits?|beats?|chok(?:es|ed)|strangl(?:es|ed)|threaten(?:s|ed)?\s+to\s+kill)\s+me\b"),
]

# Weak signals: crisis words that count only in a first-person message that is not about a text,
# a study or someone else.
_EN_WEAK: list[tuple[Kind, str]] = [
    ("suicide", r"\bsuicid(?:e|al)\b"),
    ("self_harm", r"\bself[-\s]?injur"),
]
_EN_TOPIC = re.compile(
    r"\b(?:essay|paper|novel|story|character|book|article|research|study|statistics?|rates?|history|"
    r"philosoph\w*|camus|durkheim|film|movie|song|poem|lyrics|prevention|squad|bomber|attack|mission|game|"
    r"seneca|stoic\w*|hamlet|shakespeare|view|views|theory)\b"
)
_EN_FIRST_PERSON = re.compile(rf"\b{_I}\b")

_ZH_STRONG: list[tuple[Kind, str]] = [
    ("suicide", r"想自杀|要自杀|去自杀|自杀的(?:念头|想法)|想过自杀|准备自杀|打算自杀|自杀算了"),
    ("suicide", r"(?<![笑累热饿困冷气急烦忙吓])想死(?![你您他她它你们])"),
    ("suicide", r"不想活|活不下去|不想再活|活着(?:没|没有)(?:意思|意义)|活够了|生无可恋|了结(?:自己|生命)|结束(?:自己的?|我的)?生命"),
    ("suicide", r"一了百了|死了算了|不如死了|死了就(?:好|解脱)|离开这个世界|不想(?:再)?醒(?:过)?来|轻生|寻死|遗书|结束这一切|结束一切"),
    ("suicide", r"我.{0,6}(?:打算|准备|想|要|决定)(?:去)?死(?![你您他她它])"),
    ("suicide", r"(?:吃|吞)(?:掉|光|下)?(?:了)?(?:所有|全部|一整瓶|一瓶|整瓶|很多|一把|好多|攒的|存的)的?(?:安眠药|药片|药)"),
    ("suicide", r"多少(?:片|颗)?(?:安眠药|药).{0,6}(?:会死|能死|致死|死)"),
    ("suicide", r"(?:跳楼|跳河|跳桥|跳江|跳海|从.{0,6}(?:楼|桥|顶|台)上?跳下)|上吊|卧轨|烧炭|割腕"),
    ("suicide", r"(?:吞|吃)了?(?:一整?瓶|很多|一把|好多)?(?:安眠药|药片|药)(?:自杀|去死|结束)"),
    ("suicide", r"撑不下去.{0,8}(?:死|自杀|活)|(?:死|自杀|活).{0,8}撑不下去"),
    ("self_harm", r"(?:割|划|伤害|弄伤|割伤|划伤|烫伤|打)(?:了)?自己|自残|自伤|自我伤害"),
    ("domestic_violence", r"家暴|家庭暴力"),
    ("domestic_violence", r"(?:老公|丈夫|男朋友|男友|老婆|妻子|女朋友|女友|爸爸?|妈妈?|父亲|母亲|继父|继母|爸妈|父母|他|她)(?:又|总是|经常|一喝酒就|喝醉了?就|天天|昨晚|昨天)?(?:动手)?(?:打我|打了我|揍我|掐我|踢我|打伤我|扇我|威胁要杀(?:了)?我)"),
    ("domestic_violence", r"不敢回家"),
]
_ZH_WEAK: list[tuple[Kind, str]] = [("suicide", r"自杀(?!式)")]
_ZH_TOPIC = re.compile(r"小说|论文|文章|研究|统计|角色|人物|电影|历史|哲学|理论|涂尔干|加缪|作品|诗|预防|袭击|游戏|新闻|报道|为什么")
_ZH_FIRST_PERSON = re.compile(r"我")

_EN_STRONG_RE = [(k, re.compile(p, re.I)) for k, p in _EN_STRONG]
_EN_WEAK_RE = [(k, re.compile(p, re.I)) for k, p in _EN_WEAK]
_ZH_STRONG_RE = [(k, re.compile(p)) for k, p in _ZH_STRONG]
_ZH_WEAK_RE = [(k, re.compile(p)) for k, p in _ZH_WEAK]
# Harmless idioms removed before matching: "想死你了" (miss you so much), "笑死", "…死我了".
_ZH_IDIOMS = re.compile(r"想死(?:你|您|他|她|它|我)们?了|(?:笑|累|热|饿|困|冷|气|急|烦|忙|吓|美|馋|羡慕)死(?:我|人)?了?")
# Figures of speech removed before matching: "die my hair", "die on this hill", "dying to see".
_EN_IDIOMS = re.compile(r"\bdie\s+(?:my|her|his|their|your)\s+hair\b|\bdie\s+on\s+(?:this|that)\s+hill\b|\bdying\s+to\b", re.I)
# Accidents are not self-harm: "I cut myself while cooking", "hurt myself playing football".
_EN_ACCIDENT = re.compile(
    r"\b(?:by accident|accidentally|playing|cooking|chopping|shaving|slicing|fell|falling|tripped|"
    r"at the gym|lifting|running|treat|first aid|bandage|stitches|wound|injury)\b", re.I)
_ZH_ACCIDENT = re.compile(r"不小心|切菜|做饭|摔|运动|打球|跑步|健身|包扎|处理伤口|止血")
_EN_NEGATED = re.compile(
    r"\b(?:not|never|no longer|wouldn'?t|won'?t|don'?t)\s+(?:be\s+|feel\s+|want\s+to\s+)?(?:suicidal|kill(?:ing)? myself|hurt(?:ing)? myself)\b",
    re.I,
)


@dataclass(frozen=True)
class GuardResult:
    """Outcome of :func:`check_message`: ``crisis`` and, when true, the ``kind`` and the matched text."""

    crisis: bool
    kind: Kind | None = None
    matched: str | None = None


def check_message(text: str) -> GuardResult:
    """Decide whether ``text`` signals a crisis (suicide, self-harm, violence at home), zh or en.

    Pure and fast (regular expressions over at most the first 20,000 characters).
    """
    text = (text or "")[:20_000]
    zh = _ZH_IDIOMS.sub(" ", text)
    zh_accident = bool(_ZH_ACCIDENT.search(zh))
    for kind, rx in _ZH_STRONG_RE:
        if (m := rx.search(zh)) and not (kind == "self_harm" and zh_accident):
            return GuardResult(True, kind, m.group(0))
    lower = _EN_IDIOMS.sub(" ", _EN_NEGATED.sub(" ", text.lower().replace("’", "'")))
    en_accident = bool(_EN_ACCIDENT.search(lower))
    for kind, rx in _EN_STRONG_RE:
        if (m := rx.search(lower)) and not (kind == "self_harm" and en_accident):
            return GuardResult(True, kind, m.group(0))
    if _ZH_FIRST_PERSON.search(zh) and not _ZH_TOPIC.search(zh):
        for kind, rx in _ZH_WEAK_RE:
            if m := rx.search(zh):
                return GuardResult(True, kind, m.group(0))
    if _EN_FIRST_PERSON.search(lower) and not _EN_TOPIC.search(lower):
        for kind, rx in _EN_WEAK_RE:
            if m := rx.search(lower):
                return GuardResult(True, kind, m.group(0))
    return GuardResult(False)


_HELP_ZH = {
    "suicide": "听到你这么说，我很担心你，也很感谢你愿意说出来。你现在的痛苦是真实的，你不必一个人扛着。",
    "self_harm": "谢谢你愿意告诉我。伤害自己往往是因为心里太痛了——你值得被好好照顾，而不是独自承受。",
    "domestic_violence": "你说的情况很严重，这不是你的错，你有权利安全地生活。",
}
_HELP_EN = {
    "suicide": "I'm really concerned about what you've shared, and I'm glad you told me. The pain you're feeling is real, and you don't have to carry it alone.",
    "self_harm": "Thank you for telling me. Hurting yourself usually means the pain inside is too much — you deserve care and support, not to face this alone.",
    "domestic_violence": "What you describe is serious. It is not your fault, and you deserve to be safe.",
}


def help_answer(kind: Kind, lang: str) -> str:
    """The fixed help answer for a crisis of ``kind`` in ``lang`` (``"zh"`` or anything else = English)."""
    if lang == "zh":
        lines = [_HELP_ZH[kind], ""]
        lines.append("**如果你现在有危险，请立即拨打 110 或 120 急救电话**，或者去最近的医院急诊。")
        if kind == "domestic_violence":
            lines.append("- 遭受家暴可以报警（110），也可以拨打全国妇联维权热线 **12338**，并尽量去一个安全的地方、联系信任的人。")
        lines.append("- 全国心理援助热线：**12356**；北京心理危机研究与干预中心：**010-82951332**（24 小时）。")
        lines.append("- 在其他国家或地区，可以在 findahelpline.com 找到当地的免费求助热线。")
        lines.append("")
        lines.append("请联系一位你信任的人，或心理咨询师、医生等专业人士，让他们知道你现在的状况。我是 AI，无法替代真人的帮助，但我愿意继续陪你聊。你现在安全吗？")
    else:
        lines = [_HELP_EN[kind], ""]
        lines.append("**If you are in immediate danger, call your local emergency number now** (911 in the US and Canada, 999 in the UK, 112 in the EU) or go to the nearest emergency room.")
        if kind == "domestic_violence":
            lines.append("- For violence at home: US National Domestic Violence Hotline **1-800-799-7233** (or text START to 88788); in the UK, Refuge **0808 2000 247**. Try to get to a safe place and reach someone you trust.")
        lines.append("- Call or text **988** (Suicide & Crisis Lifeline, US); Samaritans **116 123** (UK & Ireland).")
        lines.append("- Elsewhere, findahelpline.com lists free, confidential hotlines in your country.")
        lines.append("")
        lines.append("Please reach out to someone you trust, or a counsellor, doctor or other professional, and let them know how you're doing. I'm an AI and can't replace real help, but I'm here to keep talking. Are you safe right now?")
    return "\n".join(lines)
