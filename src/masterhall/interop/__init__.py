"""Import and export of masters: character cards, LobeChat agents, NextChat masks, our own
YAML/JSON, and tables of prompts (CSV, JSON lines, Parquet). No web code.

Public API::

    from masterhall.interop import import_bytes, import_source, export_master, store_import

    result = import_source("cards/merlin.png")              # or a CSV, a URL, hf://datasets/…
    for problem in result.rejected:                          # index, name, field, message
        print(problem)
    for warning in result.warnings:                          # unknown fields kept, encoding read …
        print(warning)
    if result.ok:
        store_import(result, hall.library, publish=True)      # all or nothing

    content, content_type, filename = export_master(master, "card-png")

Formats and field mappings are described in each module (``card``, ``lobechat``, ``nextchat``,
``native``, ``table``) and in the README ("Import and export").
"""

from .api import (
    EXPORT_FORMATS,
    builtin_ids,
    export_master,
    import_bytes,
    import_source,
    store_import,
)
from .detect import IMPORT_FORMATS, detect
from .errors import (
    MAX_COLUMNS,
    MAX_DECODED_BYTES,
    MAX_FIELD_CHARS,
    MAX_FILE_BYTES,
    MAX_RECORDS,
    ImportResult,
    InputTooLargeError,
    InteropError,
    Rejected,
)
from .fill import DEFAULT_AVATAR, DEFAULT_CATEGORY

__all__ = [
    "DEFAULT_AVATAR",
    "DEFAULT_CATEGORY",
    "EXPORT_FORMATS",
    "IMPORT_FORMATS",
    "MAX_COLUMNS",
    "MAX_DECODED_BYTES",
    "MAX_FIELD_CHARS",
    "MAX_FILE_BYTES",
    "MAX_RECORDS",
    "ImportResult",
    "InputTooLargeError",
    "InteropError",
    "Rejected",
    "builtin_ids",
    "detect",
    "export_master",
    "import_bytes",
    "import_source",
    "store_import",
]
