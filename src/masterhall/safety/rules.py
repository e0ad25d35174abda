"""Deterministic rules for the clear cases, zh and en: a crisis stated in so many words.

Each rule has an id (``<lang>.<kind>.<n>``) that is stored with the message it fired on, so an
operator can audit why the guard answered. Before matching, harmless figures of speech are
removed ("this deadline is killing me", "笑死", "忙得我想死", "想死你了", "dying to"), and a
message that talks *about* a topic (a novel, a study, a game) only counts for the strong rules.
The rules are specific on purpose: what they miss is left to the semantic classifier
(:mod:`.classifier`), which also reads the cue features of :func:`cue_features`.

Kinds: ``suicide``, ``self_harm``, ``abuse`` (violence at home, coercive control),
``sexual_violence``, ``medical`` (an emergency in progress: an overdose taken, chest pain, not
breathing) and ``harm_others`` (intent to hurt someone).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Literal

import numpy as np

from .prefilter import ASCII_LETTERS, NON_ASCII, has_any, needs

Kind = Literal["suicide", "self_harm", "abuse", "sexual_violence", "medical", "harm_others"]
KINDS: tuple[str, ...] = ("suicide", "self_harm", "abuse", "sexual_violence", "medical", "harm_others")

_REL_EN = (r"(?:husband|wife|partner|boyfriend|girlfriend|bf|gf|dad|father|mom|mum|mother|stepdad|stepfather|stepmom|"
           r"stepmother|step-?\w+|parents?|fianc[eé]e?|ex|son|daughter|brother|uncle|caregiver|carer)")
_REL_ZH = r"(?:老公|丈夫|男朋友|男友|老婆|妻子|女朋友|女友|爸爸?|妈妈?|父亲|母亲|继父|继母|后妈|后爸|爸妈|父母|儿子|女儿|哥哥?|他|她|护工|前任|前男友)"
_PILLS_EN = r"(?:pills|tablets|paracetamol|tylenol|acetaminophen|ibuprofen|sleeping (?:pills|tablets)|antidepressants|meds|medication|insulin)"
_PILLS_ZH = r"(?:安眠药|药片|药|扑热息痛|对乙酰氨基酚|布洛芬|抗抑郁药|胰岛素)"

_EN: list[tuple[str, str]] = [
    ("suicide", r"\b(?:kill|killing|end|ending|take|taking)\s+(?:my\s*self|myself|my\s+(?:own\s+)?life)\b"),
    ("suicide", r"\bend\s+it\s+all\b|\bkms\b|\bsuicidal\b"),
    ("suicide", r"\b(?:decided|going|want|wanna|plan|planning|ready|about|time)\s+to\s+end\s+(?:things|everything|it|this)\b"),
    ("suicide", r"\b(?:don'?t|do not|no longer)\s+(?:\w+\s+){0,2}want\s+to\s+(?:be\s+(?:here|around|alive)|live|keep living|exist|wake up|go on)\b"),
    ("suicide", r"\bwants?\s+(?:to\s+)?(?:die|be dead)\b|\b(?:going|plan|planning|ready|decided)\s+to\s+die\b|\bwish\s+i\s+(?:was|were)\s+dead\b"),
    ("suicide", r"\b(?:nobody|no one|no-one)\s+(?:would|will|'d)\s+(?:even\s+)?(?:miss|notice|care)\b.*\b(?:gone|dead|disappeared|if i)\b"),
    ("suicide", r"\bhow\s+(?:many|much)\s+(?:\w+\s+){0,2}" + _PILLS_EN + r"\b.*\b(?:die|kill|lethal|fatal|not wake)\b"),
    ("suicide", r"\b(?:painless|fastest|quickest|easiest|best|surest)\s+way\s+to\s+(?:die|kill myself|end it|end my life)\b"),
    ("suicide", r"\b(?:better off|be better)\s+(?:dead|without me)\b"),
    ("suicide", r"\b(?:no|nothing)\s+(?:reason|point)\s+(?:to|in)\s+(?:live|living|going on|being alive)\b|\blife\s+(?:isn'?t|is not)\s+worth\s+living\b"),
    ("suicide", r"\b(?:thinking|thought|thoughts|think)\s+(?:about|of)\s+(?:suicide|killing myself|ending (?:it|my (?:own\s+)?life)|dying)\b"),
    ("suicide", r"\b(?:jump|jumping|step|stepping)\s+(?:off|from|in front of)\s+(?:a|the|this)\s+(?:bridge|roof|building|cliff|balcony|window|train|platform)\b"),
    ("suicide", r"\b(?:hang|hanging)\s+myself\b|\bnearly\s+jumped\b|\bbought\s+a\s+rope\b|\b(?:where|when|how)\s+i'?(?:ll| will| am going to)\s+do\s+it\b"),
    ("suicide", r"\benough\s+to\s+(?:end\s+it|end\s+my\s+life|kill\s+me|not\s+wake\s+up)\b|\b(?:pills|rope|gun|blade)\s+(?:are\s+|is\s+)?ready\b|\b(?:dying|death|being dead)\s+would\s+(?:solve|fix|end|be a relief)\b"),
    ("suicide", r"\b(?:overdose|od)\s+on\b|\b(?:take|swallow|taking)\s+(?:all|everything)\b.*\b(?:" + _PILLS_EN
     + r"|medicine cabinet|prescription)\b|\b(?:planning|going|want)\s+to\s+overdose\b"),
    ("suicide", r"\bwrit(?:e|ing|ten|ote)\s+(?:a|my)\s+(?:suicide|goodbye)\s+(?:note|letter)\b"),
    # researching means: "I googled how long it takes to drown"
    ("suicide", r"\b(?:googled|searched|looked up|researched|been reading)\b.{0,30}\b(?:how (?:long|much|many)|what dose)\b.{0,40}"
     r"\b(?:drown|die|bleed out|suffocate|hang|lethal|fatal|overdose)\b"),
    ("suicide", r"\b(?:the\s+)?(?:one|only)\s+way\s+(?:left\s+)?out\b.*\b(?:peace|decided|mind|ready)\b"),
    ("suicide", r"\b(?:sleep|fall asleep|close my eyes)\b.*\b(?:never|not)\s+(?:wake up|have to wake|open them)\b"),
    ("suicide", r"\bwhen\s+i'?m\s+gone\b|\bafter\s+i'?m\s+gone\b|\bwon'?t\s+be\s+(?:around|here)\s+(?:for|by|much longer|next)\b"),
    ("self_harm", r"\b(?:hurt|hurting|harm|harming|cut|cutting|burn|burning|injure|injuring|punish|punishing|hit|hitting)\s+(?:my\s*self|myself)\b"),
    ("self_harm", r"\bself[-\s]?(?:harm|injur)\w*\b"),
    ("self_harm", r"\b(?:cut|cutting|slit|slitting|took a razor to|carv\w+ into)\s+my\s+(?:wrists?|arms?|forearms?|legs?|thighs?|skin)\b"),
    ("self_harm", r"\b(?:hit|hitting|bite|biting|punch\w*|scratch\w*|bang\w*)\s+my\s+\w+\s+until\s+(?:they|it)\s+(?:bleeds?|bruises?|breaks?)\b"
     r"|\bcuts?\s+i\s+(?:made|make)\b|\bstarted\s+cutting\b|\bcutting\s+again\b"),
    ("abuse", r"\b" + _REL_EN + r"\s+(?:\w+\s+){0,2}(?:hits?|hitting|beats?|beating|beat|punch(?:es|ed)?|chok(?:es|ed|ing)|kick(?:s|ed)|"
     r"slap(?:s|ped)?|strangl(?:es|ed)|whips?|slam(?:s|med)?|burns?|drag(?:s|ged)|push(?:es|ed)|abus(?:es|ed|ing)|hurts?|threaten(?:s|ed)?\s+to\s+kill)\s+(?:me|us|my)\b"),
    ("abuse", r"\b(?:domestic (?:violence|abuse)|(?:afraid|scared) to go home)\b"),
    ("abuse", r"\b(?:he|she|they)\s+(?:\w+\s+){0,2}(?:hits?|beats?|whips?|chok(?:es|ed)|strangl(?:es|ed)|threaten(?:s|ed)?\s+to\s+kill|"
     r"said (?:he|she)'?(?:ll| will) kill)\s+me\b|\bhands\s+around\s+my\s+neck\b|\bslam(?:s|med)?\s+my\s+head\b|\bstarted\s+on\s+me\b"),
    ("sexual_violence", r"\b(?:raped|rape me|sexually (?:assaulted|abused)|molest\w*)\b|\bforced\s+(?:me\s+)?(?:into|to have)\s+sex\b"
     r"|\bforced himself on me\b|\bforced\s+me\s+to\s+(?:touch|have sex|do sexual)|\bgrop(?:es|ing)\s+me\b|\b(?:keeps?|kept)\s+touching\s+me\b|\b(?:assaulted|groped)\s+me\b"),
    ("medical", r"\b(?:i|i've|i have|just)\s+(?:just\s+)?(?:took|taken|swallowed|drank|had)\s+(?:a\s+whole|an?\s+entire|all|\d+|twenty|thirty|forty|fifty|"
     r"a (?:handful|bottle|pack)|too many)\b.*\b(?:" + _PILLS_EN + r"|bleach|pills?)\b"),
    ("medical", r"\b(?:crushing|severe|bad)\s+chest\s+pain\b|\bchest\s+(?:is|feels)\s+crushing\b|\bclutching\s+(?:his|her|my)\s+chest\b"
     r"|\b(?:isn'?t|not|stopped)\s+breathing\b|\bunresponsive\b|\b(?:collapsed|passed out|fainted|unconscious)\b.{0,40}\b(?:not|isn'?t|won'?t|can'?t)\s+(?:answering|responding|waking|wake|get up)\b|\bcan'?t\s+breathe\b|\bwon'?t\s+wake\s+up\b|\bdrank\s+bleach\b|\boverdosed\b|\bhaving a seizure\b"
     r"|\bchest\s+(?:hurts|pain)\b.{0,40}\b(?:pass(?:ing)? out|faint|can'?t breathe|sweating|arm|jaw)\b"),
    ("harm_others", r"\b(?:brought|bringing|took|taking|carry(?:ing)?)\s+a\s+(?:knife|gun|weapon|machete)\s+to\s+(?:work|school|class|the office)\b"
     r"|\b(?:picturing|imagining|fantasi[sz]ing about)\s+(?:stabbing|killing|hurting|shooting|strangling)\s+(?:my|him|her|them)\b"),
    ("harm_others", r"\b(?:going to|gonna|will|want to|plan to)\s+(?:kill|hurt|stab|shoot|poison|burn)\s+(?:him|her|them|my\s+\w+|the\s+(?:people|children|kids|guy|man|woman)|everyone|people|children|kids)\b"
     r"|\bshoot up (?:my|the) school\b|\b(?:hit|kill) list\b|\bwho (?:goes|gets it|dies) first\b"),
]

_ZH: list[tuple[str, str]] = [
    ("suicide", r"(?:查|搜|搜索|百度|研究)(?:了|过)?.{0,12}(?:溺水|上吊|割腕|跳楼|吃多少|多少片|多久).{0,12}(?:会死|死亡|致死|要多久|才死|断气)"
     r"|(?:查|搜|搜索|百度)(?:了|过)?.{0,6}(?:人)?溺水(?:要|需要)?多久"),
    ("suicide", r"想自杀|要自杀|去自杀|自杀的(?:念头|想法)|想过自杀|准备自杀|打算自杀|自杀算了|轻生|寻死|(?:写|留)(?:好|了)?(?:一封)?遗书|遗书写"),
    ("suicide", r"(?<![笑累热饿困冷气急烦忙吓])(?:好|真的|很)?想(?:去)?死(?![你您他她它])"),
    ("suicide", r"不想(?:再)?活|活不下去|活着(?:没|没有)(?:任何|什么)?(?:意思|意义)|活够了|生无可恋|了结(?:自己|生命)?|结束(?:自己的?|我的)?生命|结束自己"),
    ("suicide", r"一了百了|死了算了|不如死了|死了就(?:好|解脱)|离开这个世界|不想(?:再)?醒(?:过)?来|不用(?:再)?醒来|不要醒|结束这一切|结束一切|让一切结束|做个了断|(?:我|自己)死了.{0,6}(?:最好|更好|解脱|轻松)|攒(?:够|了|好).{0,4}药|药.{0,6}攒(?:够|好)|买(?:了|好了?)绳子|绳子(?:已经)?买好|宁愿死|宁可死"),
    ("suicide", r"我(?:真的|已经|就)?(?:打算|准备|想|决定)(?:周.|今晚|明天)?(?:去)?死(?![你您他她它])"),
    ("suicide", r"多少(?:片|颗)?" + _PILLS_ZH + r".{0,6}(?:会死|能死|致死|死|不会醒)|(?<!是)怎么死(?!的)"),
    ("suicide", r"(?:跳楼|跳河|跳桥|跳江|跳海|从.{0,6}(?:楼|桥|顶|台|这里)上?跳下)|差点就跳|上吊|卧轨|烧炭|割腕|走进海里"),
    ("suicide", r"撑不下去.{0,8}(?:死|自杀|活)|(?:死|自杀|活).{0,8}撑不下去"),
    ("suicide", r"(?:我|等我)走了以后|我不在了|我已经不在了|不会再回来了|永远(?:地)?(?:离开|消失|睡)(?!这(?:个|座|家)?(?:城市|地方|国家|公司|行业|学校|小区))"),
    ("self_harm", r"(?:割|划|伤害|弄伤|割伤|划伤|烫|烫伤|打|掐|咬|惩罚)(?:了)?自己|自残|自伤|自我伤害"),
    ("self_harm", r"(?:刀片|刀)(?:划|割)(?:了)?(?:手|胳膊|腿|手腕)|(?:手|胳膊|腿|手腕|大腿)上划|划了好多道|没忍住(?:又)?(?:划|割|烫|掐|咬)(?:了)?(?:手|胳膊|腿|手腕|自己)"),
    ("abuse", r"家暴|家庭暴力|不敢回家"),
    ("abuse", _REL_ZH + r"(?:又|总是|经常|一喝酒就|喝醉了?就|天天|昨晚|昨天|一生气就)?(?:动手)?(?:打我|打了我|揍我|掐我|踢我|打伤我|扇我|抽我|"
     r"拿皮带抽我|揪着我|威胁要杀(?:了)?我|说.{0,6}(?:杀了我|弄死我))|(?:开始|又|就|会)(?:打|揍|抽)我"),
    ("abuse", r"(?:他|她)(?:说)?要(?:杀了|弄死)我|掐(?:住)?(?:了)?我的脖子|把我的头往"),
    ("sexual_violence", r"强奸|性侵|被.{0,3}侵犯|侵犯了我|对我动手动脚|堵在.{0,4}强迫我|强迫我(?:发生)?(?:了)?关系|强迫了我|猥亵|强迫我发生|迷奸"),
    ("suicide", r"(?:吃|吞)(?:掉|光|下)?(?:所有|全部|一整瓶|整瓶)的?(?:安眠药|药片|药)(?:去死|自杀|结束)?"),
    ("medical", r"(?:吞|吃)(?:了|下)?(?:掉|光)?(?:了)(?:一整瓶|一瓶|整瓶|一板|一把|全部|所有|很多|太多|\d+片|[一二三四五六七八九十百]+片)的?.{0,4}"
     + _PILLS_ZH + r"|喝了(?:消毒水|农药|洗洁精|漂白)|" + _PILLS_ZH + r"(?:一次)?全(?:吃|吞)了"),
    ("medical", r"胸口.{0,6}(?:剧痛|压|绞痛|痛得厉害|疼得厉害).{0,10}(?:喘|汗|麻|下巴|分钟|晕)|捂着胸口|没(?:有)?呼吸|叫不醒|(?:晕倒|昏倒|倒在地上|昏过去|晕过去)了?.{0,10}(?:叫(?:她|他|也)*不(?:答应|应|醒)|没(?:有)?反应)|昏迷不醒|不省人事|抽搐|嘴唇发紫|吐血|喘不上气"),
    ("harm_others", r"(?<!不)(?:要|想|准备|打算)(?:去)?(?:杀了|弄死|捅|砍|毒死|报复|伤害)(?:我的?)?.{0,12}(?:他|她|他们|邻居|老板|老公|室友|同事|那些人|孩子|人)(?!的感情)|等他.{0,6}就(?:捅|动手)"
     r"|(?:想象|幻想)(?:着)?(?:捅|杀|砍|打死|弄死)|(?:一个|谁)都(?:不会放过|跑不了|别想跑)|(?:杀|报复|收拾)(?:人)?的?名单|带(?:了)?刀(?:去)?(?:上班|学校|公司)|(?:饭|水)里下毒|对室友动手|冲进人群|(?:他|她)一?(?:进门|回来|出现).{0,4}(?:我)?就(?:动手|捅|砍)"),
]

#: Lower-case letters that ``re.IGNORECASE`` equates with an ASCII letter although ``str.lower``
#: keeps them (dotless i, long s). The English patterns below are all lower-case and only ever
#: read lower-cased text (:func:`_lower`), so they are compiled without IGNORECASE — about twice
#: as fast — and these two letters are folded instead, which keeps every match the same.
_FOLD = str.maketrans({"\u0131": "i", "\u017f": "s"})


def _lower(text: str) -> str:
    """``text`` lower-cased for the English patterns (see :data:`_FOLD`)."""
    return text.lower().translate(_FOLD)


# Harmless figures of speech, removed before matching (the English ones read lower-cased text).
_ZH_IDIOMS = re.compile(
    r"(?<=[，,])\s*想死了|再.{1,12}(?:我)?就要(?:死|疯)了|逼死|逼疯|(?:整个人|人)?废了|瘫了|快断气|社死|累成狗|"
    r"想死(?:你|您|他|她|它|我)们?(?:了|做的)?|(?:笑|累|热|饿|困|冷|气|急|烦|忙|吓|美|馋|羡慕|痒|疼|难|无聊|闷)死(?:我|人)?了?"
    r"|[\u4e00-\u9fff]得(?:我|人)?(?:都)?(?:快|要)?(?:想死|要死|半死)|要(?:了)?我的(?:老|半条)?命|要(?:了)?我半条命|要死要活|生不如死，哈哈"
    r"|杀疯了?|杀穿|杀青|秒杀|绝杀|团灭|死机|死磕|死党|打死(?:我)?也不|(?:笑|乐)(?:到|得)(?:原地)?去世|原地去世"
    r"|(?:电脑|手机|服务器|树莓派|系统|网站|程序|硬盘|路由器|进程|数据库|考试|高数|科目)(?:又|也|就|直接)?挂了"
    r"|撑死|人都(?:快|要)?没了|被.{1,10}(?:折磨|烦|气|累|逼|吵|热|冻|吓|笑|坑|虐)死(?:了)?")
_EN_IDIOMS = re.compile(
    r"\b(?:be|is|was)\s+the\s+(?:death|end)\s+of\s+me\b|\b(?:i'?ll|i will|i'?d|i would|i'?m going to)\s+(?:literally\s+)?die\s+if\b"
    r"|\bone more (?:time|bite|minute|song)\b.{0,40}\b(?:i'?ll|i will)\s+die\b|\bdead on my feet\b|\bearly grave\b|\bout of my misery\b"
    r"|\b(?:feet|legs|arms|back|brain|phone|battery|laptop)\s+(?:are|is|were|was)\s+(?:\w+\s+)?dead\b|\bmurder(?:ed)?\s+me\b|\b(?:is|was)\s+murder\b|^\s*i'?m dead\b|\bi'?m a corpse\b|\bwants me dead\b|"
    r"\bdie\s+(?:my|her|his|their|your)\s+hair\b|\bdie\s+on\s+(?:this|that)\s+hill\b|\bdying\s+(?:to|of)\b|\bcould\s+(?:just\s+)?die\b|\b(?:i'?d|i would)\s+(?:kill|die)\s+for\b"
    r"|\bdrowning in\b|\bdied? of (?:boredom|embarrassment|shame|laughter|cuteness|curiosity|old age)\b|\bdie(?:d)? laughing\b|\b(?:inbox|emails?|work|paperwork|laundry)\b.{0,20}\bdrowning me\b"
    r"|\b(?:is|are|was)\s+killing\s+me\b|\bkill(?:ed|ing)?\s+it\b|\bkill(?:ing)?\s+time\b|\bkill\s+(?:for|a|the)\s+(?:coffee|process|job|weeds?|lobster)\b")
_EN_ACCIDENT = re.compile(r"\b(?:by accident|accidentally|playing|cooking|chopping|shaving|slicing|fell|falling|tripped|at the gym|lifting|"
                          r"running|treat|first aid|bandage|stitches|plaster|oven)\b")
_ZH_ACCIDENT = re.compile(r"不小心|切菜|做饭|摔|运动|打球|跑步|健身|包扎|处理伤口|止血|创可贴")
_EN_NEGATED = re.compile(r"\b(?:not|never|no longer|wouldn'?t|won'?t|don'?t)\s+(?:be\s+|feel\s+|want\s+to\s+)?"
                         r"(?:suicidal|kill(?:ing)? myself|hurt(?:ing)? myself)\b")
#: A message about a text, a study, a game or another person's case (weak cues do not count there).
_EN_TOPIC = re.compile(r"\bwhat (?:did|does|do|would) \w+(?: \w+)? (?:think|say|write|believe)\b|\b(?:camus|durkheim|seneca|stoics?|hamlet|"
                       r"theor(?:y|ies)|why (?:do|did|does|would) (?:people|someone|he|she)|signs?|warning|someone|somebody|friend who|support|respond|employee|manager|teacher|nurse|"
                       r"essay|paper|novel|story|character|book|article|research|study|statistics?|rates?|history|philosoph\w*|"
                       r"film|movie|song|poem|play|plot|scene|screenplay|game|boss|level|patient|student|teenager|theory|thriller|"
                       r"shelters?|hotlines?|charit(?:y|ies)|organi[sz]ations?|laws?|legal(?:ly)?|policy|policies|court|documentary|podcast)\b")
_ZH_TOPIC = re.compile(r"数据|怎么发现|朋友告诉|怎么支持|倾向|预警|信号|学生|老师|护士|咨询师|小说|论文|文章|研究|统计|角色|人物|电影|历史|哲学|理论|作品|诗|剧本|游戏|新闻|报道|为什么|来访者|病人|学生|情节|故事"
                       r"|庇护所|热线|公益|机构|法律|立法|法院|话剧|舞台剧|电视剧|纪录片|漫画|播客|短篇|长篇|剧情")

#: Words that name a topic; a rule whose match is only such a word does not fire in a message about the topic.
_NOUNS = re.compile(r"suicid|self[-\s]?(?:harm|injur)|domestic|rape|sexually|thinking about|overdose|hang|jump|自杀|自伤|自残|家暴|家庭暴力|性侵|遗书|强奸|猥亵|怎么死"
                    r"|卧轨|跳楼|跳河|上吊|割腕|服毒|自刎|投河|投江", re.I)
#: The person writing is the one harmed ("I was raped", "我被…").
_VICTIM = re.compile(r"我被|\bi (?:was|got|am being|'m being|have been|'ve been)\b|我(?:的)?(?!他|她)" + _REL_ZH + r"|\bmy\s+" + _REL_EN + r"\b", re.I)

_EN_RE = [(f"en.{k}.{i}", k, re.compile(p)) for i, (k, p) in enumerate(_EN)]
_ZH_RE = [(f"zh.{k}.{i}", k, re.compile(p)) for i, (k, p) in enumerate(_ZH)]


@dataclass(frozen=True)
class RuleHit:
    """A rule that fired: its ``rule`` id, the crisis ``kind`` and the ``matched`` text."""

    rule: str
    kind: str
    matched: str


def _skip_unless(rx: re.Pattern) -> tuple[tuple[int, int], ...] | None:
    """The characters every match of ``rx`` holds (see :mod:`.prefilter`), or ``None``."""
    return next((r for r in (NON_ASCII, ASCII_LETTERS) if needs(rx, r)), None)


def _sub(rx: re.Pattern, needed, repl: str, text: str) -> str:
    return text if needed is not None and not has_any(text, needed) else rx.sub(repl, text)


# A text without the characters a pattern needs is not searched with it (same results, less time:
# the Chinese rules on an English message, the English ones on a Chinese message).
_ZH_IDIOMS_NEED, _EN_IDIOMS_NEED, _EN_NEGATED_NEED = (_skip_unless(rx) for rx in (_ZH_IDIOMS, _EN_IDIOMS, _EN_NEGATED))
#: Per language: the rules, one pattern matching where any of them matches, and what that one needs.
_RULE_SETS = [(rules, any_rule, _skip_unless(any_rule), accident) for rules, any_rule, accident in (
    (_ZH_RE, re.compile("|".join(f"(?:{rx.pattern})" for _, _, rx in _ZH_RE)), _ZH_ACCIDENT),
    (_EN_RE, re.compile("|".join(f"(?:{rx.pattern})" for _, _, rx in _EN_RE)), _EN_ACCIDENT))]


def clean(text: str) -> tuple[str, str]:
    """``(zh, en)`` forms of ``text`` with the figures of speech removed (en is lower-cased)."""
    text = (text or "")[:20_000]
    zh = _sub(_ZH_IDIOMS, _ZH_IDIOMS_NEED, "，", text)
    en = _sub(_EN_IDIOMS, _EN_IDIOMS_NEED, " ", _sub(_EN_NEGATED, _EN_NEGATED_NEED, " ", _lower(text).replace("’", "'")))
    return zh, en


def match_rules(text: str) -> RuleHit | None:
    """The first rule that fires on ``text`` (zh rules first, then en), or ``None``.

    Self-harm rules do not fire on accidents ("I cut myself while cooking"); pure, about 0.1 ms
    (less when a language's rules cannot match at all: one search of their union, or none for a
    text without the characters they all need).
    """
    zh, en = clean(text)
    about = bool(_ZH_TOPIC.search(zh) or _EN_TOPIC.search(en))
    victim = bool(_VICTIM.search(zh) or _VICTIM.search(en))
    for (lang_rules, any_rule, needed, accident), form in zip(_RULE_SETS, (zh, en)):
        if (needed is not None and not has_any(form, needed)) or any_rule.search(form) is None:
            continue  # no rule of this language matches anywhere in the text
        for rule, kind, rx in lang_rules:
            m = rx.search(form)
            if m is None or (kind == "self_harm" and accident.search(form)):
                continue
            if about and _NOUNS.search(m.group(0)) and not (victim and kind in ("abuse", "sexual_violence")):
                continue  # talk about the topic ("an essay on suicide rates"), not a person in it
            return RuleHit(rule, kind, m.group(0))
    return None


# Cue families read by the classifier next to the sentence vector: words that make a farewell,
# an arrangement or a feeling of being a burden final, and words that mark a harmless reason.
_CUES: list[tuple[str, str]] = [
    ("finality", r"以后(?:就)?(?:不|没|用不|再也)|不会再|再也不|永远|最后一(?:次|条|个)|用不上|用不着|不用再|后面的事|后事|走了以后|\bfor good\b|\banymore\b"
     r"|\bany ?more\b|\b(?:one )?last (?:time|message|conversation)\b|\bafterwards\b|\bwhen i'?m gone\b|\bwon'?t (?:need|be (?:needing|around|here|coming back))\b|\bever again\b"),
    ("arrangement", r"密码|遗嘱|存款|银行卡|保险|还清|账(?:也|都)?(?:还|清)|交代|托付|安排好|标签|分给|送人|信放在|纸条|\bpasswords?\b|\bwill\b|\bsavings\b"
     r"|\binsurance\b|\bdebts?\b|\bbills are paid\b|\bwho (?:gets|should get)\b|\blabell?ed\b|\bletters?\b|\bnote\b|\bgave (?:away|my)\b|\bhanded\b"),
    ("burden", r"负担|拖累|累赘|麻烦|打扰|操心|不配|更好的|摆脱我|\bburden\b|\bproblem for\b|\bout of (?:the|everyone'?s) way\b|\bbothering\b|\bbetter off\b"
     r"|\bdeserve (?:a )?better\b|\bdeal with me\b|\bweight\b"),
    ("resolve", r"想通了|决定|想好了|平静|解脱|放心地走|日子.{0,4}选好|走了|离开|\bmade (?:my )?peace\b|\bdecided\b|\bmade up my mind\b|\bat peace\b|\bchosen the day\b"
     r"|\bready to go\b|\bcan'?t stay\b|\bgoodbye\b|\bsay(?:ing)? goodbye\b"),
    ("sleep", r"睡(?:下去|过去|着了)?.{0,4}(?:不|再也不|不用|永远).{0,2}醒|闭上眼睛.{0,6}(?:不|别)|\bsleep\b.{0,30}\b(?:never|not|forever)\b|\bnever wake\b"),
    ("harmless", r"在(?:公司|医院|学校|店里?|单位).{0,4}最后一(?:天|个班|周)|能.{0,8}吗|可以.{0,8}吗|\blast (?:day|shift|week) (?:at|in|of)\b|\bcan i (?:take|eat|drink|mix)\b"
     r"|\bis it (?:safe|ok|okay)\b|出国|搬家|搬去|搬到|留学|读书|工作|上班|出差|离职|退休|旅游|旅行|产假|毕业|学期|手术|寄养|国外|部队|公司|同事|值班|志愿者|餐厅|饭店|自助餐|那家店|这家店|航班|酒店|商场|\bmoving\b|\bmove\b|\babroad\b|\bjob\b"
     r"|\bretir\w*\b|\bsabbatical\b|\btrip\b|\btravel\w*\b|\bholiday\b|\bsemester\b|\bschool\b|\bsurgery\b|\bdeployment\b|\bemigrat\w*\b|\bnew city\b|\boffice\b|\bshift\b"
     r"|\bcolleagues\b|\bcompany\b|\bvolunteer\w*\b|\bgraduat\w*\b|\brestaurant\b|\bbuffet\b|\bhotel\b|\bairline\b|\bflight\b"),
    ("accident", r"不小心|切菜|做饭|烤箱|摔|扭伤|运动|打球|跑步|健身|创可贴|缝针|涂什么|\bby accident\b|\baccidentally\b|\bcooking\b|\bchopping\b|\boven\b"
     r"|\bplaster\b|\bstitches\b|\bsprain\w*\b|\bplaying\b|\bfirst aid\b"),
    ("someone_died", r"(?:猫|狗|仓鼠|爷爷|奶奶|外公|外婆|姥姥|姥爷|爸|妈|哥|姐|弟|妹|姑|舅|叔|姨|朋友|丈夫|老公|老伴|妻子|老婆).{0,6}(?:去世|过世|走了|走的|死了|不在了|没了|离开的)|失去了?(?:最亲的人|亲人|爷爷|奶奶|外公|外婆|爸爸|妈妈|孩子)"
     r"|悼词|忌日|骨灰|吊唁|慰问卡|扫墓|(?:爷|奶|公|婆|姥|爸|妈|哥|姐|弟|妹|姑|舅|叔|姨|朋友|同事|老师)的?(?:葬礼|追悼会|头七)|参加.{0,6}(?:葬礼|追悼会)|(?:好|太|很)?想(?:外婆|外公|奶奶|爷爷|姥姥|姥爷|我妈|我爸|妈妈|爸爸|老伴)"
     r"|\b(?:cat|dog|hamster|grandma|grandpa|grand\w+|nan|mum|mom|dad|father|mother|brother|sister|aunt|uncle|friend|husband|wife)\s+(?:\w+\s+)?(?:died|passed)"
     r"|\beulogy\b|\bcondolence\b|\b(?:\w+'s|an?) (?:funeral|grave)\b|\bfuneral (?:of|for) (?:my|a|his|her|our)\b|\bput down\b|\b(?:losing|lost) (?:my|our) (?:cat|dog|hamster|pet|rabbit|grand\w+|mum|mom|dad|father|mother|brother|sister|husband|wife|friend|baby)\b|\banniversary of \w+ \w+'?s? death\b|\bmiss (?:my|him|her)\b"),
    ("game", r"游戏|打boss|boss战|boss\s?(?:怎么打|打不过|一招|秒了|的血)|(?:最后|最终|这个|那个|第.)的?\s?boss|把boss|副本|团本|关卡|这一关|那一关|存档|吃鸡|王者|排位|打野|狼人杀|剧本杀|和平精英|原神|黑魂|艾尔登|法环|我的世界|星露谷|宝可梦|蛋仔|英雄联盟"
     r"|开黑|上分|掉分|连跪|落地成盒|老六|跑团|地下城|血条|满血|残血|一滴血|段位|通关|电子宠物"
     r"|\bvideo ?games?\b|\bthis game\b|\bin[- ]game\b|\bfinal boss\b|\bboss (?:fight|battle)\b|\b(?:killed|beat) the boss\b|\braid boss\b|\braid(?:ed|ing)? (?:tonight|last night)\b"
     r"|\brespawn\w*|\blobby\b|\branked\b|\bmatchmaking\b|\bnpcs?\b|\bhit ?points?\b|\bdungeons?\b|\bd&d\b|\bdnd\b|\bmy (?:character|avatar|sims?|rogue|wizard|paladin|pok[eé]mon|tamagotchi)\b"
     r"|\bminecraft\b|\bfortnite\b|\bapex\b|\bvalorant\b|\belden ring\b|\bdark souls\b|\bpok[eé]mon\b|\bstardew\b|\brimworld\b|\bamong us\b|\boverwatch\b"
     r"|\bcall of duty\b|\bpubg\b|\bcheckpoint\b|\bsave point\b|\bpermadeath\b|\bhardcore (?:mode|world|run)\b|\bsniped\b|\bheadshot\b|\bone-shot\w*"
     r"|\brage ?quit\w*|\bpvp\b|\bspeedrun\w*|\bmurder mystery\b|\bboard game\b"),
    ("question", r"\b(?:how (?:do|can|should|much|many|to)|what (?:should|is|are|was|did|does)|is it (?:safe|normal|okay)|should i|any (?:tips|ideas))\b"
     r"|怎么(?!死)|如何|吗[？?]?\s*$|有什么|推荐|为什么"),
    ("idiom", r"\u0000"),
    ("figurative", r"哈哈|笑|加班|甲方|需求|开会|会议|作业|考试|周报|PPT|\bhaha\b|\blol\b|\bmeeting\b|\bdeadline\b|\bexam\b|\bgym\b|\bmovie\b"),
]
_CUE_RE = [(name, re.compile(p, re.I)) for name, p in _CUES]
CUE_NAMES: tuple[str, ...] = tuple(name for name, _ in _CUES)
#: Cue families that mark a harmless reading; with one of them and no rule firing, the semantic
#: layer may rate a message *elevated* (reply checked, help line added) but not *crisis*.
GATE_CUES: tuple[str, ...] = ("idiom", "game", "harmless", "accident", "someone_died")
#: The crisis kinds each gate applies to (``None``: all). A move, a job or a death in the family
#: is a harmless reading of a farewell, not of a beating or a threat ("I'll run him over at the
#: kids' school"), and an accident explains a cut, not bruises someone else made. Grief gates
#: every kind: its messages land near any of them ("外公去年春天走的…" next to abuse exemplars).
GATE_KINDS: dict[str, frozenset[str] | None] = {
    "idiom": None, "game": None, "harmless": frozenset({"suicide", "self_harm"}), "accident": frozenset({"self_harm"}),
    "someone_died": None}
#: Hyperbole that is not removed before the rules (it could hide a real threat there) but counts
#: as the ``idiom`` cue: a parent or boss who "will kill me when they see…", "I'll strangle him if
#: he texts 'k' one more time", "我妈看到成绩单会打死我的".
_HYPERBOLE = re.compile(
    r"\b(?:mom|mum|mother|dad|father|parents|boss|teacher|coach|landlord|manager|editor|professor|prof|supervisor|roommate|flatmate|sister|brother|nan|grandma)\b"
    r".{0,20}\b(?:is going to|'s going to|is gonna|'s gonna|will|'ll|would|'d|gonna)\s+(?:literally\s+|actually\s+|absolutely\s+)?"
    r"(?:kill|murder|strangle|skin|have my head|have a heart attack)\b.{0,40}\b(?:when|if|once|for)\b"
    r"|\b(?:one more time|again)\b.{0,40}\bi(?:'ll| will| swear i'?ll)\s+(?:kill|strangle|murder|throttle)\b"
    r"|\bif i (?:have to|hear|see|get)\b.{0,40}\bone more time\b|\bi'?d rather die than (?:wear|eat|go to|sit through|watch|listen|be seen|admit|sing|dance)\b"
    r"|\bi(?:'ll| will| swear i'?ll)\s+(?:strangle|throttle)\s+(?:him|her|them|my \w+|the next \w+)\b.{0,40}\b(?:one more time|again|if|left|ate|replies)\b"
    r"|(?:妈|爸|老板|老师|教练|房东|领导|主管|导师|经理|班主任|室友)(?:要是|如果)?.{0,14}(?:会|要|非|肯定|绝对)(?:把我)?(?:杀了我|打死我|弄死我|扒了我的皮|骂死我|宰了我)(?:的|不可)?"
    r"|(?:再|要是再).{1,15}(?:我)?就(?:掐死|弄死|杀了|宰了)(?:他|她|谁)"
    # one more meeting / shift / change request "and I'll jump out of the window"
    r"|\bone more (?:meeting|call|email|zoom|spreadsheet|deadline|shift|revision|change request|status update)\b.{0,30}"
    r"\b(?:jump(?:ing)? out (?:of )?(?:the|a|my) window|throw(?:ing)? myself out (?:of )?(?:the|a) window)"
    r"|再(?:开|加|改|让我(?:开|加|改|写|做)|写|做|上|来).{0,10}(?:会|班|需求|报告|PPT|ppt|方案|代码|课|作业|表格?)[^，。！？]{0,4}"
    r"我?就要?(?:从窗户|从楼上)?跳(?:下去|楼)了?", re.I)
#: A digest of the cue patterns: part of the classifier's cache key, so a changed cue refits.
CUE_VERSION: str = hashlib.sha256(repr((_CUES, _ZH_IDIOMS.pattern, _EN_IDIOMS.pattern, _HYPERBOLE.pattern)).encode()).hexdigest()[:16]


def cue_features(text: str) -> np.ndarray:
    """``(len(CUE_NAMES),)`` float32: for each cue family, 1.0 when one of its words occurs in
    ``text`` (after figures of speech are removed), else 0.0."""
    zh, en = clean(text)
    both = zh + "\n" + en
    low = _lower(text).replace("’", "'")
    idiom = bool(_ZH_IDIOMS.search(text) or _EN_IDIOMS.search(low) or _HYPERBOLE.search(low))
    return np.array([1.0 if (idiom if name == "idiom" else rx.search(both)) else 0.0 for name, rx in _CUE_RE], np.float32)
