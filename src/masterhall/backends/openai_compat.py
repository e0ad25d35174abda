"""Any OpenAI-compatible chat server: llama.cpp server, Ollama, LM Studio, vLLM, MLC, OpenAI.

Speaks ``POST {base_url}/chat/completions`` with ``stream: true`` and reads the Server-Sent
Events stream (``data: {json}`` lines, ending with ``data: [DONE]``) with httpx.
"""

from __future__ import annotations

import json
import os
import time
from typing import Iterator, Sequence

import httpx

from ..catalog.models import SamplingParams
from .base import BackendError, ChatMessage, PromptStyle, Usage, estimate_tokens
from .sampling import model_defaults, request_fields


class OpenAICompatBackend:
    """A model behind an OpenAI-compatible HTTP API.

    ``base_url`` ends before ``/chat/completions`` (e.g. ``http://127.0.0.1:11434/v1``);
    the API key is read from the environment variable ``api_key_env`` at request time (no key is
    sent when it is unset). ``context_window`` is what the hall assumes the server allows.
    """

    def __init__(
        self,
        name: str,
        base_url: str,
        model: str,
        *,
        api_key_env: str = "MASTERHALL_OPENAI_API_KEY",
        context_window: int = 8192,
        timeout_s: float = 600.0,
    ):
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key_env = api_key_env
        self.context_window = context_window
        self.default_params = model_defaults(model)
        self.prompt_style: PromptStyle = "full"
        self.timeout_s = timeout_s

    def count_tokens(self, text: str) -> int:
        """Estimated tokens (no tokenizer endpoint is standard in the OpenAI API)."""
        return estimate_tokens(text)

    def _headers(self) -> dict[str, str]:
        key = os.environ.get(self.api_key_env)
        return {"Authorization": f"Bearer {key}"} if key else {}

    def stream_chat(self, messages: Sequence[ChatMessage], params: SamplingParams) -> Iterator[str | Usage]:
        """Stream from ``/chat/completions``; raises :class:`BackendError` if the request fails."""
        body: dict = {
            "model": self.model,
            "messages": [m.to_dict() for m in messages],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        body.update(request_fields(params))
        client = httpx.Client(timeout=httpx.Timeout(self.timeout_s, connect=10.0))
        start = time.perf_counter()
        try:
            response = client.send(
                client.build_request("POST", f"{self.base_url}/chat/completions", json=body, headers=self._headers()),
                stream=True,
            )
        except httpx.HTTPError as exc:
            client.close()
            raise BackendError(f"cannot reach {self.base_url}: {exc}", "unavailable") from exc
        if response.status_code >= 400:
            detail = response.read().decode("utf-8", "replace")
            response.close()
            client.close()
            kind = "context_length" if "context" in detail.lower() else (
                "unavailable" if response.status_code in (404, 502, 503) else "bad_request")
            raise BackendError(f"{self.base_url} answered {response.status_code}: {_error_message(detail)}", kind)
        return self._consume(client, response, start)

    def _consume(self, client: httpx.Client, response: httpx.Response, start: float) -> Iterator[str | Usage]:
        usage = Usage()
        first_at: float | None = None
        deltas = 0
        try:
            for line in response.iter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                try:
                    chunk = json.loads(data)
                except json.JSONDecodeError:
                    continue
                if "error" in chunk:
                    usage.finish_reason, usage.error = "error", _error_message(json.dumps(chunk))
                    break
                for choice in chunk.get("choices") or ():
                    text = (choice.get("delta") or {}).get("content")
                    if text:
                        if first_at is None:
                            first_at = time.perf_counter()
                            usage.ttft_s = first_at - start
                        deltas += 1
                        yield text
                    if choice.get("finish_reason"):
                        usage.finish_reason = "length" if choice["finish_reason"] == "length" else "stop"
                if chunk.get("usage"):
                    usage.prompt_tokens = chunk["usage"].get("prompt_tokens") or 0
                    usage.completion_tokens = chunk["usage"].get("completion_tokens") or 0
                    details = chunk["usage"].get("prompt_tokens_details") or {}
                    usage.cached_tokens = details.get("cached_tokens")
        except httpx.HTTPError as exc:
            usage.finish_reason, usage.error = "error", f"connection lost: {exc}"
        finally:
            response.close()
            client.close()
        if not usage.completion_tokens:
            usage.completion_tokens = deltas
        if first_at is not None and usage.completion_tokens > 1:
            usage.tokens_per_s = (usage.completion_tokens - 1) / max(time.perf_counter() - first_at, 1e-9)
        yield usage


def _error_message(detail: str) -> str:
    try:
        data = json.loads(detail)
    except (json.JSONDecodeError, TypeError):
        return detail[:500]
    err = data.get("error", data) if isinstance(data, dict) else data
    if isinstance(err, dict):
        return str(err.get("message", err))[:500]
    return str(err)[:500]
