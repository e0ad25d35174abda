"""The web pages' own words in Chinese and English, and how a page's language is chosen.

The language of a page is the ``lang`` cookie when it is ``zh`` or ``en``, else the best match
of the browser's ``Accept-Language`` header, else English. Masters' own texts (names,
taglines …) come from the catalog; only the interface strings live here. Strings may hold
``{placeholders}`` filled by :func:`translate`.
"""

from __future__ import annotations

from types import MappingProxyType

#: The interface languages, in the order the switch shows them.
LANGS: tuple[str, ...] = ("zh", "en")
DEFAULT_LANG = "en"
#: Name of the cookie that remembers a visitor's choice.
LANG_COOKIE = "lang"

_EN = {
    "site_name": "MasterHall",
    "site_tagline": "A hall of AI masters, on your own machine",
    "html_title_hall": "MasterHall — a hall of AI masters",
    "nav_hall": "Hall",
    "switch_to": "中文",
    "switch_to_title": "切换到中文",
    "skip_to_content": "Skip to content",
    "hero_title": "Who would you like to ask today?",
    "hero_text": "{n} masters in {c} fields. Each one answers in the language you write in — Chinese or English.",
    "search_label": "Search the masters",
    "search_placeholder": "Search by name, need or topic — e.g. sleep, negotiation, 写作",
    "search_clear": "Clear",
    "search_count": "{n} of {total} masters",
    "search_none": "No master matches “{q}”. Try other words, or ask the Master Finder.",
    "search_finder_title": "Suggested by the Master Finder",
    "finder_title": "Not sure whom to ask?",
    "finder_text": "Tell the Master Finder what you are facing, and it will recommend the masters who fit.",
    "finder_cta": "Ask the Master Finder",
    "category_count": "{n} masters",
    "all_categories": "All",
    "model_loading": "The model is loading… You can look around already; answers start as soon as it is ready.",
    "model_error": "The model could not be loaded: {message}",
    "model_ready": "The model is ready.",
    "back_to_hall": "Back to the hall",
    "about": "About",
    "greeting": "Greeting",
    "starters_title": "Start with one of these",
    "start_chat": "Start chatting",
    "tags": "Brings help with",
    "not_found_title": "Nothing here",
    "not_found_master": "There is no master called “{id}” in the hall.",
    "not_found_conversation": "This conversation does not exist — it may have been deleted.",
    "not_found_page": "This page does not exist.",
    "did_you_mean": "Did you mean:",
    "conversations": "Conversations",
    "new_chat": "New chat",
    "search_conversations": "Search conversations",
    "no_conversations": "No conversations yet.",
    "no_conversations_match": "No conversation title matches.",
    "untitled": "Untitled",
    "rename": "Rename",
    "delete": "Delete",
    "confirm_delete": "Delete?",
    "save": "Save",
    "cancel": "Cancel",
    "export": "Export",
    "export_md": "Markdown (.md)",
    "export_json": "JSON (.json)",
    "about_master": "About {name}",
    "input_label": "Your message",
    "input_placeholder": "Message {name}…",
    "send": "Send",
    "stop": "Stop",
    "regenerate": "Regenerate",
    "edit": "Edit",
    "save_and_send": "Save & send",
    "copy": "Copy",
    "copied": "Copied",
    "copy_failed": "Could not copy",
    "composer_hint": "Enter to send · Shift+Enter for a new line",
    "you": "You",
    "show_conversations": "Conversations",
    "close": "Close",
    "thinking": "Thinking…",
    "status_stopped": "Stopped — the partial answer is kept.",
    "status_interrupted": "Interrupted: {reason}",
    "status_generating": "Still generating… this page will update when the answer is complete.",
    "loading_model": "The model is still loading — the answer starts as soon as it is ready.",
    "err_network": "Cannot reach the MasterHall server. Check that it is running, then try again.",
    "err_connection_lost": "The connection to the server was lost. The part of the answer received so far is kept.",
    "err_context_length": "This conversation is too long for the model's context window. Start a new chat or send a shorter message. ({message})",
    "err_unavailable": "The model is not available: {message}",
    "err_invalid": "{message}",
    "err_generic": "Something went wrong: {message}",
    "err_http": "The server answered {status}: {message}",
    "err_restored": "Your message was not sent; it is back in the input box.",
    "dismiss": "Dismiss",
    "footer": "MasterHall runs on open models on your own machine. Masters can be wrong — for health, money or a crisis, talk to a real professional.",
}

_ZH = {
    "site_name": "大师堂",
    "site_tagline": "运行在你自己电脑上的 AI 大师殿堂",
    "html_title_hall": "大师堂 — AI 大师殿堂",
    "nav_hall": "大师堂",
    "switch_to": "English",
    "switch_to_title": "Switch to English",
    "skip_to_content": "跳到正文",
    "hero_title": "今天想请教哪位大师？",
    "hero_text": "{c} 个领域，{n} 位大师。用中文问，就用中文答；用英文问，就用英文答。",
    "search_label": "搜索大师",
    "search_placeholder": "搜索名字、需求或话题，如：睡眠、谈判",
    "search_clear": "清除",
    "search_count": "共 {total} 位，找到 {n} 位",
    "search_none": "没有找到与“{q}”相关的大师。换个说法试试，或者问问大师向导。",
    "search_finder_title": "大师向导的推荐",
    "finder_title": "不知道该问谁？",
    "finder_text": "把你遇到的事告诉大师向导，它会为你推荐最合适的大师。",
    "finder_cta": "问问大师向导",
    "category_count": "{n} 位大师",
    "all_categories": "全部",
    "model_loading": "模型正在加载……你可以先随便看看，加载完成后即可开始回答。",
    "model_error": "模型加载失败：{message}",
    "model_ready": "模型已就绪。",
    "back_to_hall": "返回大师堂",
    "about": "简介",
    "greeting": "问候",
    "starters_title": "从这些问题开始",
    "start_chat": "开始对话",
    "tags": "擅长",
    "not_found_title": "这里什么也没有",
    "not_found_master": "大师堂里没有“{id}”这位大师。",
    "not_found_conversation": "这个对话不存在，可能已被删除。",
    "not_found_page": "这个页面不存在。",
    "did_you_mean": "你是不是要找：",
    "conversations": "对话记录",
    "new_chat": "新对话",
    "search_conversations": "搜索对话",
    "no_conversations": "还没有对话。",
    "no_conversations_match": "没有标题匹配的对话。",
    "untitled": "未命名",
    "rename": "重命名",
    "delete": "删除",
    "confirm_delete": "确定删除？",
    "save": "保存",
    "cancel": "取消",
    "export": "导出",
    "export_md": "Markdown (.md)",
    "export_json": "JSON (.json)",
    "about_master": "关于{name}",
    "input_label": "你的消息",
    "input_placeholder": "给{name}发消息……",
    "send": "发送",
    "stop": "停止",
    "regenerate": "重新生成",
    "edit": "编辑",
    "save_and_send": "保存并发送",
    "copy": "复制",
    "copied": "已复制",
    "copy_failed": "复制失败",
    "composer_hint": "Enter 发送 · Shift+Enter 换行",
    "you": "你",
    "show_conversations": "对话记录",
    "close": "关闭",
    "thinking": "思考中……",
    "status_stopped": "已停止，已保留部分回答。",
    "status_interrupted": "已中断：{reason}",
    "status_generating": "仍在生成中……回答完成后本页会自动更新。",
    "loading_model": "模型仍在加载，加载完成后立即开始回答。",
    "err_network": "无法连接到大师堂服务器。请确认它正在运行，然后重试。",
    "err_connection_lost": "与服务器的连接断开了。已收到的部分回答会保留。",
    "err_context_length": "这个对话太长，超出了模型的上下文窗口。请开始新对话或发送更短的消息。（{message}）",
    "err_unavailable": "模型不可用：{message}",
    "err_invalid": "{message}",
    "err_generic": "出错了：{message}",
    "err_http": "服务器返回 {status}：{message}",
    "err_restored": "消息没有发出，已放回输入框。",
    "dismiss": "关闭",
    "footer": "大师堂在你自己的电脑上运行开源模型。大师也会出错——涉及健康、钱财或危机时，请咨询真正的专业人士。",
}

_STRINGS = MappingProxyType({"en": MappingProxyType(_EN), "zh": MappingProxyType(_ZH)})


def normalize_lang(value: str | None) -> str | None:
    """``"zh"`` or ``"en"`` for a language tag such as ``zh-CN`` or ``en_US``; ``None`` otherwise."""
    if not value:
        return None
    base = value.strip().lower().replace("_", "-").split("-")[0]
    return base if base in LANGS else None


def from_accept_language(header: str | None) -> str | None:
    """The supported language the ``Accept-Language`` header prefers most, or ``None``."""
    best: tuple[float, int, str] | None = None
    for index, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        lang = normalize_lang(tag)
        if lang and quality > 0 and (best is None or (quality, -index) > (best[0], best[1])):
            best = (quality, -index, lang)
    return best[2] if best else None


def choose_lang(cookie: str | None, accept_language: str | None) -> str:
    """The page language: the cookie's choice, else the browser's preference, else English."""
    return normalize_lang(cookie) or from_accept_language(accept_language) or DEFAULT_LANG


def strings(lang: str) -> dict[str, str]:
    """Every interface string of ``lang`` (a copy; unknown languages give English)."""
    return dict(_STRINGS.get(lang, _STRINGS[DEFAULT_LANG]))


def translate(lang: str, key: str, **values: object) -> str:
    """The string ``key`` in ``lang`` with ``{placeholders}`` filled; an unknown key returns itself."""
    text = _STRINGS.get(lang, _STRINGS[DEFAULT_LANG]).get(key)
    if text is None:
        return key
    return text.format(**values) if values else text
