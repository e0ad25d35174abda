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

from .errors import MAX_FILE_BYTES, MAX_NODES, InputTooLargeError, InteropError, check_document, over_limit

#: Byte-order marks and the codec each one announces (UTF-32 before UTF-16: it starts alike).
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig", "UTF-8 with a byte-order mark"),
    (b"\xff\xfe\x00\x00", "utf-32", "UTF-32"),
    (b"\x00\x00\xfe\xff", "utf-32", "UTF-32"),
    (b"\xff\xfe", "utf-16", "UTF-16"),
    (b"\xfe\xff", "utf-16", "UTF-16"),
)


def decode(data: bytes) -> tuple[str, str]:
    """``(text, encoding)`` of ``data``: the encoding its byte-order mark names (UTF-8, UTF-16 —
    Excel's "Unicode text" — or UTF-32), else UTF-8 when it decodes as such, else the encoding
    charset-normalizer finds most likely (GB18030/GBK of Chinese Excel, Big5, Shift-JIS,
    Windows-1252 …). ``encoding`` is ``"utf-8"`` or a name for the user (e.g. ``"gb18030"``).

    Raises :class:`InteropError` for bytes that are text in no encoding it can tell (a binary file).
    """
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec), label
            except UnicodeDecodeError as exc:
                raise InteropError(f"the file starts like {label} text but byte {exc.start} cannot be decoded") from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or "\x00" in (text := str(best)):
        raise InteropError(
            f"the file is not text in an encoding we can tell (byte {first_bad} is not UTF-8); "
            "save it as UTF-8 (e.g. Excel: CSV UTF-8) and import it again"
        )
    return text, best.encoding


def decode_text(data: bytes) -> str:
    """``data`` as text in its encoding (see :func:`decode`); raises :class:`InteropError`."""
    return decode(data)[0]


def check_containers(data: bytes | str) -> None:
    """Refuse, before parsing, JSON with more objects and arrays than :data:`MAX_NODES` could hold.

    Counting ``{`` and ``[`` (also inside strings: an overestimate) costs far less than building
    millions of empty objects only to refuse them afterwards. Raises :class:`InputTooLargeError`.
    """
    if len(data) <= MAX_NODES:
        return
    count = data.count(b"{" if isinstance(data, bytes) else "{") + data.count(b"[" if isinstance(data, bytes) else "[")
    if count > MAX_NODES:
        raise over_limit("objects and arrays", count, MAX_NODES, "the document")


def load_json(data: bytes | str, what: str = "JSON") -> object:
    """Parse JSON within the limits of :func:`~masterhall.interop.errors.check_document`.

    Raises :class:`InteropError` naming the line and column of a syntax error (``NaN`` and
    ``Infinity``, which Python would accept, are errors too: they are not JSON).
    """
    check_containers(data)
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
    return InputTooLargeError(f"{what} is larger than the {limit:,}-byte limit", limit=limit, what="bytes")


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
