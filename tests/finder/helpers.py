"""Builders of user-made masters for the finder tests."""

from masterhall import Master


def user_master(master_id: str, name_zh: str, name_en: str, tags_zh: list[str], tags_en: list[str]) -> Master:
    """A valid user-created master whose texts are all about its tags."""
    return Master(
        id=master_id,
        category="life",
        avatar="🍵",
        name={"zh": name_zh, "en": name_en},
        tagline={"zh": f"{tags_zh[0]}和{tags_zh[1]}的行家", "en": f"An expert in {tags_en[0]} and {tags_en[1]}"},
        description={"zh": "、".join(tags_zh), "en": ", ".join(tags_en)},
        instructions=f"You are {name_en}, a friendly expert in {', '.join(tags_en)}. Answer briefly.",
        greeting={"zh": f"你好，我是{name_zh}。", "en": f"Hello, I'm the {name_en}."},
        starters={
            "zh": [f"教我{tags_zh[0]}", f"{tags_zh[1]}怎么入门", f"关于{tags_zh[2]}的问题"],
            "en": [f"Teach me {tags_en[0]}", f"How do I start with {tags_en[1]}", f"A question about {tags_en[2]}"],
        },
        tags={"zh": tags_zh, "en": tags_en},
        examples=[{"user": "Hi", "assistant": "Hello!"}],
    )


def tea_master(master_id: str = "tea-master") -> Master:
    return user_master(
        master_id,
        "茶艺师",
        "Tea Master",
        ["泡茶", "茶道", "普洱茶", "乌龙茶", "绿茶", "茶具"],
        ["brewing tea", "tea ceremony", "pu'er tea", "oolong tea", "green tea", "teaware"],
    )


def bonsai_master(master_id: str = "tea-master") -> Master:
    return user_master(
        master_id,
        "盆景师",
        "Bonsai Master",
        ["盆景", "修剪枝条", "盆栽", "松柏盆景", "换盆", "造型"],
        ["bonsai", "pruning branches", "potted trees", "juniper bonsai", "repotting", "shaping a tree"],
    )
