"""Bytes in: decode text, parse JSON / YAML within limits, read a file or a URL.

URLs: ``http(s)://`` is read with httpx; any other scheme (``hf://datasets/<owner>/<name>/<file>``,
``s3://`` …) through fsspec, when it (and the scheme's package, e.g. ``huggingface_hub`` for
``hf://``) is installed; ``file://`` and plain paths are local files. Every read stops at
:data:`~masterhall.interop.errors.MAX_FILE_BYTES`.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote, urlparse

import yaml

from .errors import MAX_FILE_BYTES, InteropError, check_document


def decode_text(data: bytes) -> str:
    """``data`` as text: UTF-8 (a byte-order mark is dropped), or UTF-16 when it starts with its mark.

    Raises :class:`InteropError` for bytes that are not text.
    """
    try:
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            return data.decode("utf-16")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InteropError(f"the file is not UTF-8 text (byte {exc.start} cannot be decoded)") from None


def load_json(data: bytes | str, what: str = "JSON") -> object:
    """Parse JSON within the limits of :func:`~masterhall.interop.errors.check_document`.

    Raises :class:`InteropError` naming the line and column of a syntax error (``NaN`` and
    ``Infinity``, which Python would accept, are errors too: they are not JSON).
    """
    text = decode_text(data) if isinstance(data, bytes) else data
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise InteropError(f"bad {what}: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except (RecursionError, ValueError) as exc:
        raise InteropError(f"bad {what}: {exc.__class__.__name__}: {str(exc)[:200]}") from None
    check_document(value)
    return value


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not valid JSON")


def load_yaml(data: bytes) -> object:
    """Parse YAML (safe loader) within the document limits; raises :class:`InteropError`."""
    text = decode_text(data)
    try:
        value = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        raise InteropError(f"bad YAML: {str(exc)[:300]}") from None
    check_document(value)
    return value


def is_url(source: str) -> bool:
    """True for ``scheme://…`` sources (other than a Windows drive letter)."""
    parsed = urlparse(source)
    return bool(parsed.scheme) and len(parsed.scheme) > 1 and "://" in source


def _too_big(what: str, limit: int) -> InteropError:
    return InteropError(f"{what} is larger than the {limit:,}-byte limit")


def read_source(source: str | Path, max_bytes: int = MAX_FILE_BYTES) -> tuple[bytes, str]:
    """``(content, filename)`` of a local path or a URL, at most ``max_bytes`` bytes.

    Raises :class:`InteropError` for a missing file, a failed download, a missing optional
    package (fsspec / huggingface_hub) or content over the limit.
    """
    text = str(source)
    if isinstance(source, Path) or not is_url(text):
        return _read_file(Path(text).expanduser(), max_bytes)
    parsed = urlparse(text)
    name = unquote(Path(parsed.path).name) or "download"
    if parsed.scheme == "file":
        return _read_file(Path(unquote(parsed.path)), max_bytes)
    if parsed.scheme in ("http", "https"):
        return _read_http(text, max_bytes), name
    return _read_fsspec(text, max_bytes), name


def _read_file(path: Path, max_bytes: int) -> tuple[bytes, str]:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise _too_big(str(path), max_bytes)
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except FileNotFoundError:
        raise InteropError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise InteropError(f"{path} is a folder, not a file") from None
    except OSError as exc:
        raise InteropError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise _too_big(str(path), max_bytes)
    return data, path.name


def _read_http(url: str, max_bytes: int) -> bytes:
    import httpx

    try:
        with httpx.stream("GET", url, follow_redirects=True, timeout=30.0) as response:
            if response.status_code >= 400:
                raise InteropError(f"cannot download {url}: HTTP {response.status_code}")
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise _too_big(url, max_bytes)
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise InteropError(f"cannot download {url}: {exc}") from None
    return b"".join(chunks)


def _read_fsspec(url: str, max_bytes: int) -> bytes:
    try:
        import fsspec
    except ImportError:
        raise InteropError(
            f"reading {url.split('://')[0]}:// URLs needs fsspec (and huggingface_hub for hf://): "
            "pip install fsspec huggingface_hub"
        ) from None
    try:
        with fsspec.open(url, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except ImportError as exc:
        raise InteropError(f"reading {url} needs another package: {exc}") from None
    except FileNotFoundError:
        raise InteropError(f"not found: {url}") from None
    except Exception as exc:  # noqa: BLE001 - each filesystem has its own errors (HTTP, auth, protocol)
        raise InteropError(f"cannot read {url}: {exc.__class__.__name__}: {exc}") from None
    if len(data) > max_bytes:
        raise _too_big(url, max_bytes)
    return data
