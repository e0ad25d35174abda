"""The context window an OpenAI-compatible server says it has.

No OpenAI-API endpoint reports it, but the common local servers do, each its own way:

- vLLM: ``GET {base_url}/models`` → ``data[i].max_model_len`` (the model's entry);
- llama.cpp server: ``GET {root}/props`` → ``default_generation_settings.n_ctx`` (tokens per slot);
- Ollama: ``POST {root}/api/show`` ``{"model"}`` → ``num_ctx`` in ``parameters`` when the model
  sets one (what Ollama runs it with), else ``model_info["<architecture>.context_length"]``.

``root`` is ``base_url`` without its trailing ``/v1``. Each answer is read with a short timeout;
a server that answers none of them gets ``None`` (the caller then uses its default); one that
cannot be reached raises, so the caller can ask again later.
"""

from __future__ import annotations

import re

import httpx

#: Seconds each probe may take (a server that is down must not hold up a turn for long).
PROBE_TIMEOUT_S = 3.0


def _json(response: httpx.Response):
    response.raise_for_status()
    return response.json()


def _root(base_url: str) -> str:
    url = base_url.rstrip("/")
    return url[:-3] if url.endswith("/v1") else url


def _positive(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _vllm(client: httpx.Client, base_url: str, model: str) -> int | None:
    data = _json(client.get(f"{base_url.rstrip('/')}/models")).get("data") or []
    entries = [e for e in data if isinstance(e, dict) and e.get("id") == model] or [e for e in data if isinstance(e, dict)]
    return next((n for e in entries if (n := _positive(e.get("max_model_len")))), None)


def _llamacpp(client: httpx.Client, base_url: str, model: str) -> int | None:
    props = _json(client.get(f"{_root(base_url)}/props"))
    return _positive((props.get("default_generation_settings") or {}).get("n_ctx"))


_NUM_CTX = re.compile(r"^\s*num_ctx\s+(\d+)", re.MULTILINE)


def _ollama(client: httpx.Client, base_url: str, model: str) -> int | None:
    show = _json(client.post(f"{_root(base_url)}/api/show", json={"model": model}))
    found = _NUM_CTX.search(show.get("parameters") or "")
    if found:
        return _positive(found.group(1))
    info = show.get("model_info") or {}
    return next((n for key, value in info.items() if key.endswith(".context_length") and (n := _positive(value))), None)


def server_context_window(base_url: str, model: str, *, headers: dict[str, str] | None = None,
                          transport: httpx.BaseTransport | None = None) -> int | None:
    """The context window (tokens) the server at ``base_url`` reports for ``model``, or ``None``
    when it reports none. Raises ``httpx.TransportError`` when the server cannot be reached."""
    with httpx.Client(timeout=PROBE_TIMEOUT_S, headers=headers or {}, transport=transport) as client:
        for probe in (_vllm, _llamacpp, _ollama):
            try:
                found = probe(client, base_url, model)
            except httpx.TransportError:
                raise  # unreachable: asking the next way is no use
            except (httpx.HTTPError, ValueError, AttributeError, TypeError):
                continue
            if found:
                return found
    return None
