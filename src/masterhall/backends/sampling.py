"""Per-model sampling defaults: the publishers' recommended generation settings.

A backend carries the defaults of the model it serves (``Backend.default_params``); a turn merges
backend defaults < hall ``params`` < the master's ``params`` < the caller's. Models are matched
by name (GGUF file name or the server's model id), first match wins. Sources, each the model
card or ``generation_config.json`` the publisher ships:

- Qwen2.5 / Qwen2.5-Coder instruct: temperature 0.7, top_p 0.8, top_k 20, repetition penalty
  1.05 (1.1 for the 0.5B/1.5B/3B sizes) — Qwen's ``generation_config.json`` on Hugging Face.
- Qwen3 (non-thinking mode): temperature 0.7, top_p 0.8, top_k 20, min_p 0 — Qwen3 model card,
  "Best Practices".
- Llama 3.x instruct: temperature 0.6, top_p 0.9 — Meta's ``generation_config.json``.
- Gemma 2/3 instruct: temperature 1.0, top_k 64, top_p 0.95 — Gemma 3 model card / Ollama's
  published parameters.
- Mistral / Mixtral instruct: temperature 0.7 (Mistral's recommended chat setting) with top_p 1.
- Phi-3/Phi-4 mini instruct: temperature 0.7 (no top-k), as in Microsoft's examples.

Unknown models get no defaults (the server's own apply).

Small models also get a temperature ceiling (:func:`model_max_temperature`): a master's
``temperature`` is written for models of any size, and a 1.5B model sampled at a master's 0.7
wanders more than it can afford. Read blind on 30 development questions, the embedded 1.5B at
0.3 scored usefulness 0.63 against 0.52 at the masters' own temperatures (persona 0.40 against
0.35); on the 42 test questions it changed little (usefulness 0.57 against 0.56, persona 0.26
against 0.29; README, *Answer quality*).
"""

from __future__ import annotations

import re

from ..catalog.models import SamplingParams

_PRESETS: tuple[tuple[re.Pattern[str], SamplingParams], ...] = (
    (re.compile(r"qwen2\.5.*(?:0\.5b|1\.5b|3b)", re.I),
     SamplingParams(temperature=0.7, top_p=0.8, top_k=20, repeat_penalty=1.1)),
    (re.compile(r"qwen2\.5", re.I), SamplingParams(temperature=0.7, top_p=0.8, top_k=20, repeat_penalty=1.05)),
    (re.compile(r"qwen3", re.I), SamplingParams(temperature=0.7, top_p=0.8, top_k=20, min_p=0.0)),
    (re.compile(r"llama[-_ ]?3", re.I), SamplingParams(temperature=0.6, top_p=0.9)),
    (re.compile(r"gemma[-_ ]?[23]", re.I), SamplingParams(temperature=1.0, top_k=64, top_p=0.95)),
    (re.compile(r"mi[sx]tral", re.I), SamplingParams(temperature=0.7, top_p=1.0)),
    (re.compile(r"phi[-_ ]?[34]", re.I), SamplingParams(temperature=0.7)),
)


#: Models whose masters' and hall's temperatures are capped (the caller's own temperature is not).
_MAX_TEMPERATURE: tuple[tuple[re.Pattern[str], float], ...] = (
    (re.compile(r"qwen2\.5.*(?:0\.5b|1\.5b)", re.I), 0.3),
)


def model_max_temperature(model_name: str) -> float | None:
    """The highest temperature a master or the hall may set for ``model_name`` (``None``: no cap)."""
    for pattern, cap in _MAX_TEMPERATURE:
        if pattern.search(model_name or ""):
            return cap
    return None


def capped(params: SamplingParams, cap: float | None) -> SamplingParams:
    """``params`` with ``temperature`` lowered to ``cap`` when it is above it (a copy; ``params``
    itself when nothing changes)."""
    if cap is None or params.temperature is None or params.temperature <= cap:
        return params
    return params.model_copy(update={"temperature": cap})


def model_defaults(model_name: str) -> SamplingParams:
    """The recommended sampling settings for a model named ``model_name`` (empty when unknown)."""
    for pattern, params in _PRESETS:
        if pattern.search(model_name or ""):
            return params.model_copy()
    return SamplingParams()


#: Request fields every OpenAI-compatible server knows.
_STANDARD = ("temperature", "top_p", "max_tokens", "seed", "frequency_penalty", "presence_penalty", "stop")
#: Extras llama.cpp's server (and Ollama, vLLM for the first two) read; OpenAI's own API refuses them.
_EXTRAS = ("top_k", "min_p", "repeat_penalty")


def request_fields(params: SamplingParams) -> dict:
    """The set sampling parameters as fields of an OpenAI-style chat completion request.

    ``context_window`` is not a request field (it sizes the prompt); ``None`` values are left out.
    """
    return {key: value for key in _STANDARD + _EXTRAS if (value := getattr(params, key)) is not None}
