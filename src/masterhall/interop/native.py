"""Our own format: masters as YAML or JSON, exactly as in the catalog (``catalog/data/*/*.yaml``).

A file holds one master (a mapping of its fields), a list of masters, or ``{"masters": [...]}``.
Fields are those of :class:`~masterhall.catalog.models.Master`; an unknown field rejects the
record (our schema forbids extra fields). Export writes one master, leaving out unset optional
fields (``model``, unset ``params``, empty ``extensions``), so the files read like the catalog's.
"""

from __future__ import annotations

import json

import yaml

from ..catalog.models import Master
from .errors import InteropError
from .records import Candidate


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
        name = rec.get("name")
        label = (name.get("en") or name.get("zh")) if isinstance(name, dict) else None
        out.append(Candidate(i, label if isinstance(label, str) else None, dict(rec)))
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
