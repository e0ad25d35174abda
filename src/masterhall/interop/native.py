"""Our own format: masters as YAML or JSON, exactly as in the catalog (``catalog/data/*/*.yaml``).

A file holds one master (a mapping of its fields), a list of masters, or ``{"masters": [...]}``.
Fields are those of :class:`~masterhall.catalog.models.Master`. A file written by a newer
version may hold fields this one does not know: they are not an error. Each unknown field, at
any depth (``x_future``, ``params.mirostat``, ``name.fr``), is kept in
``extensions["unknown_fields"]`` under its dotted path and named in a warning of the import;
known sampling settings under other names or outside ``params`` (``repetition_penalty``,
``topK``, a top-level ``top_k`` …) are moved into ``params`` (see :data:`PARAM_ALIASES`).
Export writes one master, leaving out unset optional fields (``model``, unset ``params``, empty
``extensions``), so the files read like the catalog's.
"""

from __future__ import annotations

import json
import types
import typing

import yaml
from pydantic import BaseModel

from ..catalog.models import Master, SamplingParams
from .errors import InteropError
from .records import Candidate

#: Key of ``Master.extensions`` holding the fields an import did not know, by dotted path.
UNKNOWN_KEY = "unknown_fields"
#: Other spellings of our sampling parameters (OpenAI, llama.cpp, camelCase) → ours.
PARAM_ALIASES: dict[str, str] = {
    "repetition_penalty": "repeat_penalty", "repeatPenalty": "repeat_penalty", "topK": "top_k", "topP": "top_p",
    "minP": "min_p", "frequencyPenalty": "frequency_penalty", "presencePenalty": "presence_penalty",
    "maxTokens": "max_tokens", "max_new_tokens": "max_tokens", "contextWindow": "context_window",
    "num_ctx": "context_window", "n_ctx": "context_window",
}
_PARAM_NAMES = frozenset(SamplingParams.model_fields)


def _model_of(annotation: object) -> tuple[type[BaseModel] | None, bool]:
    """``(model class, is a list of it)`` for a field annotation such as ``Recipe | None`` or ``list[Example]``."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _model_of(arg)
            if found[0] is not None:
                return found
        return None, False
    if origin is list:
        args = typing.get_args(annotation)
        inner = args[0] if args else None
        return (inner, True) if isinstance(inner, type) and issubclass(inner, BaseModel) else (None, False)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    return None, False


def _strip_unknown(value: dict, model: type[BaseModel], path: str, unknown: dict) -> dict:
    """``value`` without the keys ``model`` does not have (at any depth); they go to ``unknown``."""
    out = {}
    for key, item in value.items():
        where = f"{path}.{key}" if path else str(key)
        info = model.model_fields.get(key) if isinstance(key, str) else None
        if info is None:
            unknown[where] = item
            continue
        sub, many = _model_of(info.annotation)
        if sub is not None and many and isinstance(item, list):
            item = [_strip_unknown(x, sub, f"{where}.{i}", unknown) if isinstance(x, dict) else x for i, x in enumerate(item)]
        elif sub is not None and isinstance(item, dict) and key != "extensions":
            item = _strip_unknown(item, sub, where, unknown)
        out[key] = item
    return out


def _gather_params(rec: dict, moved: list[str]) -> dict:
    """``rec`` with sampling settings under other names, or outside ``params``, moved into ``params``."""
    rec = dict(rec)
    params = rec.get("params")
    if params is None:
        params = {}
    if not isinstance(params, dict):
        return rec
    params = dict(params)
    for key in list(params):
        ours = PARAM_ALIASES.get(key)
        if ours and ours not in params:
            params[ours] = params.pop(key)
            moved.append(f"params.{key} → params.{ours}")
    for key in list(rec):
        ours = PARAM_ALIASES.get(key, key)
        if key not in Master.model_fields and ours in _PARAM_NAMES and ours not in params:
            params[ours] = rec.pop(key)
            moved.append(f"{key} → params.{ours}")
    if params or "params" in rec:
        rec["params"] = params
    return rec


def split_unknown(rec: dict) -> tuple[dict, dict, list[str]]:
    """``(fields, unknown, moved)`` of one master record.

    ``fields`` are the record's fields that :class:`Master` knows, with sampling settings moved
    into ``params``; ``unknown`` maps the dotted path of every other field to its value;
    ``moved`` describes each sampling setting that was moved (``"repetition_penalty →
    params.repeat_penalty"``). Values are not validated here.
    """
    moved: list[str] = []
    unknown: dict = {}
    fields = _strip_unknown(_gather_params(rec, moved), Master, "", unknown)
    return fields, unknown, moved


def _candidate(index: int, rec: dict) -> Candidate:
    name = rec.get("name")
    label = (name.get("en") or name.get("zh")) if isinstance(name, dict) else None
    fields, unknown, moved = split_unknown(rec)
    warnings = [f"sampling setting {m}" for m in moved]
    if unknown:
        ext = fields.get("extensions")
        if ext is None:
            ext = {}
        if isinstance(ext, dict):
            kept = ext.get(UNKNOWN_KEY) if isinstance(ext.get(UNKNOWN_KEY), dict) else {}
            fields["extensions"] = {**ext, UNKNOWN_KEY: {**kept, **unknown}}
            shown = ", ".join(list(unknown)[:10]) + (" …" if len(unknown) > 10 else "")
            warnings.append(f"{len(unknown)} unknown field(s) kept in extensions.{UNKNOWN_KEY}: {shown}")
        else:
            fields.update(unknown)  # no place to keep them: let validation name them
    return Candidate(index, label if isinstance(label, str) else None, fields, warnings=warnings)


def is_master_doc(doc: object) -> bool:
    """True for a mapping that looks like one of our masters (localized ``name`` and ``instructions``)."""
    return isinstance(doc, dict) and isinstance(doc.get("name"), dict) and "instructions" in doc


def masters_in(doc: object) -> list | None:
    """The master records of a parsed file, or ``None`` if it holds none."""
    if isinstance(doc, dict) and isinstance(doc.get("masters"), list):
        return doc["masters"]
    if is_master_doc(doc):
        return [doc]
    if isinstance(doc, list) and any(is_master_doc(d) for d in doc):
        return doc
    return None


def read_masters(doc: object) -> list[Candidate]:
    """Candidates for every master record; raises :class:`InteropError` when the file holds none."""
    records = masters_in(doc)
    if records is None:
        raise InteropError("not a MasterHall master: expected a mapping with 'id', 'name' {zh, en}, 'instructions' …")
    out = []
    for i, rec in enumerate(records):
        if not isinstance(rec, dict):
            out.append(Candidate(i, None, problems=[("(record)", "expected a mapping of master fields")]))
            continue
        out.append(_candidate(i, rec))
    return out


def master_dict(master: Master) -> dict:
    """``master`` as plain data in catalog style (unset optional fields left out)."""
    data = master.model_dump(mode="json", exclude_none=True)
    if not data.get("params"):
        data.pop("params", None)
    if not data.get("extensions"):
        data.pop("extensions", None)
    return data


class _BlockDumper(yaml.SafeDumper):
    """Writes multi-line strings as ``|`` blocks, like the catalog files."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str)


def master_yaml(master: Master) -> bytes:
    """``master`` as a catalog-style YAML document (UTF-8)."""
    return yaml.dump(master_dict(master), Dumper=_BlockDumper, allow_unicode=True, sort_keys=False, width=100).encode("utf-8")


def master_json(master: Master) -> bytes:
    """``master`` as pretty-printed UTF-8 JSON."""
    return json.dumps(master_dict(master), ensure_ascii=False, indent=2).encode("utf-8")
