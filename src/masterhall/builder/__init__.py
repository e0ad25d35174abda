"""The builder: user-created masters — drafts, publishing, forking, import and export, attached
files (``library``) — and test runs of drafts (``trial``). No web code."""

from ..errors import BuiltinReadOnlyError
from .library import (
    MAX_FILE_BYTES,
    ImportRejectedError,
    InvalidMasterError,
    MasterLibrary,
    field_errors,
    safe_filename,
    validate_master,
)
from .trial import Trial, debug_info

__all__ = [
    "MAX_FILE_BYTES",
    "BuiltinReadOnlyError",
    "ImportRejectedError",
    "InvalidMasterError",
    "MasterLibrary",
    "Trial",
    "debug_info",
    "field_errors",
    "safe_filename",
    "validate_master",
]
