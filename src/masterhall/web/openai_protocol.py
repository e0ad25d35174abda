"""Request and response models of the OpenAI-compatible chat API (the subset MasterHall serves)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ..inputs import MAX_DB_INT, JsonObject, Text

#: The most tokens a reply may ask for (the hall's ``SamplingParams.max_tokens`` bound).
MAX_REPLY_TOKENS = 32_768


def _text_parts(parts: list[dict]) -> list[dict]:
    """``parts`` unchanged; ``ValueError`` when a ``text`` part's ``text`` is not a string."""
    for i, part in enumerate(parts):
        if part.get("type") == "text" and not isinstance(part.get("text"), str):
            raise ValueError(f"part {i} is a text part without a string 'text'")
    return parts


#: A message's content as a list of parts (``{"type": "text", "text"}``; other types are ignored).
ContentParts = Annotated[list[JsonObject], AfterValidator(_text_parts)]


class ChatMessageIn(BaseModel):
    """A message of the request; ``content`` may be a string or a list of text parts."""

    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: Text | ContentParts | None = None

    def text(self) -> str:
        """The message's text (text parts joined)."""
        if isinstance(self.content, list):
            return "".join(part.get("text", "") for part in self.content if part.get("type") == "text")
        return self.content or ""


class StreamOptions(BaseModel):
    include_usage: bool = False


_Stop = Annotated[Text, Field(min_length=1, max_length=64)]


class ChatCompletionRequest(BaseModel):
    """``POST /v1/chat/completions``; unknown fields are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    model: Text
    messages: list[ChatMessageIn] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    max_tokens: int | None = Field(default=None, ge=1, le=MAX_REPLY_TOKENS)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=MAX_REPLY_TOKENS)
    seed: int | None = Field(default=None, ge=-MAX_DB_INT - 1, le=MAX_DB_INT)
    #: One sequence or up to 4 (see :class:`~masterhall.catalog.models.SamplingParams`).
    stop: _Stop | Annotated[list[_Stop], Field(min_length=1, max_length=4)] | None = None
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    #: Choices to generate: the hall generates one (any other number is refused, not ignored).
    n: Literal[1] | None = None

    def stop_sequences(self) -> list[str] | None:
        """``stop`` as a list (``None`` when not given)."""
        return [self.stop] if isinstance(self.stop, str) else self.stop


class UsageOut(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str
    name: str | None = None
    description: str | None = None


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


def error_body(message: str, type_: str = "invalid_request_error", code: str | None = None, param: str | None = None) -> dict:
    """OpenAI's error shape: ``{"error": {"message", "type", "param", "code"}}``."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}
