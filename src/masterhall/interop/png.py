"""PNG chunks: read the text chunks of a PNG, write text chunks into one, make a small PNG.

Format source: the PNG specification (W3C, "Portable Network Graphics (PNG) Specification",
chunk layout ``length (4 bytes, big-endian) | type (4 ASCII letters) | data | CRC-32`` over
type + data; ``tEXt`` = keyword, NUL, Latin-1 text; ``zTXt`` = keyword, NUL, method 0, zlib data;
``iTXt`` = keyword, NUL, compression flag, method, language tag, NUL, translated keyword, NUL,
UTF-8 text). Character cards keep their JSON, base64-encoded, in a ``tEXt`` chunk.
"""

from __future__ import annotations

import struct
import zlib

from .errors import MAX_FILE_BYTES, InteropError

SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: Most bytes a compressed text chunk may expand to.
MAX_TEXT_BYTES = MAX_FILE_BYTES


def is_png(data: bytes) -> bool:
    """True when ``data`` starts with the PNG signature."""
    return data[:8] == SIGNATURE


def _chunks(data: bytes) -> list[tuple[str, bytes, int, int]]:
    """``(type, data, start, end)`` of every chunk up to and including ``IEND``.

    Raises :class:`InteropError` for a missing signature, a chunk running past the end of the
    file, a bad CRC, a first chunk other than ``IHDR`` or a missing ``IEND`` (truncated file).
    """
    if not is_png(data):
        raise InteropError("not a PNG file (the PNG signature is missing)")
    out: list[tuple[str, bytes, int, int]] = []
    pos = len(SIGNATURE)
    while True:
        if pos + 12 > len(data):
            raise InteropError("truncated PNG: the file ends before its IEND chunk")
        length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        if length > 0x7FFFFFFF or pos + 12 + length > len(data):
            raise InteropError(f"truncated PNG: a chunk at byte {pos} runs past the end of the file")
        if not ctype.isalpha():
            raise InteropError(f"corrupt PNG: bad chunk type at byte {pos}")
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        if zlib.crc32(ctype + body) & 0xFFFFFFFF != crc:
            raise InteropError(f"corrupt PNG: the {ctype.decode('ascii')} chunk at byte {pos} fails its CRC check")
        name = ctype.decode("ascii")
        if not out and name != "IHDR":
            raise InteropError("corrupt PNG: the first chunk is not IHDR")
        out.append((name, body, pos, pos + 12 + length))
        pos += 12 + length
        if name == "IEND":
            return out


def _inflate(data: bytes) -> bytes:
    d = zlib.decompressobj()
    try:
        out = d.decompress(data, MAX_TEXT_BYTES)
    except zlib.error as exc:
        raise InteropError(f"corrupt PNG: a compressed text chunk cannot be read ({exc})") from None
    if d.unconsumed_tail:
        raise InteropError("a compressed PNG text chunk expands past the size limit")
    return out


def _text_chunk(ctype: str, body: bytes) -> tuple[str, str] | None:
    """``(keyword, text)`` of a tEXt / zTXt / iTXt chunk, or ``None`` for one we cannot read."""
    keyword, sep, rest = body.partition(b"\x00")
    if not sep:
        return None
    key = keyword.decode("latin-1")
    if ctype == "tEXt":
        return key, rest.decode("latin-1")
    if ctype == "zTXt":
        if not rest or rest[0] != 0:
            return None
        return key, _inflate(rest[1:]).decode("latin-1")
    if ctype == "iTXt":
        if len(rest) < 2:
            return None
        compressed, method, tail = rest[0], rest[1], rest[2:]
        _lang, s1, tail = tail.partition(b"\x00")
        _translated, s2, text = tail.partition(b"\x00")
        if not (s1 and s2):
            return None
        if compressed:
            if method != 0:
                return None
            text = _inflate(text)
        try:
            return key, text.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return None


def read_text_chunks(data: bytes) -> dict[str, str]:
    """The text chunks of a PNG as ``{keyword: text}`` (the first of each keyword wins).

    Raises :class:`InteropError` for a file that is not a complete, intact PNG.
    """
    found: dict[str, str] = {}
    for ctype, body, _start, _end in _chunks(data):
        if ctype in ("tEXt", "zTXt", "iTXt"):
            pair = _text_chunk(ctype, body)
            if pair is not None and pair[0] not in found:
                found[pair[0]] = pair[1]
    return found


def _chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body) & 0xFFFFFFFF)


def text_chunk(keyword: str, text: str) -> bytes:
    """A complete ``tEXt`` chunk (length, type, data, CRC) for an ASCII ``keyword`` and Latin-1 ``text``."""
    return _chunk(b"tEXt", keyword.encode("latin-1") + b"\x00" + text.encode("latin-1"))


def with_text_chunks(png: bytes, texts: dict[str, str]) -> bytes:
    """``png`` with ``texts`` as ``tEXt`` chunks just before ``IEND``.

    Existing text chunks with the same keywords are removed first. Raises
    :class:`InteropError` when ``png`` is not an intact PNG.
    """
    chunks = _chunks(png)
    parts = [SIGNATURE]
    for ctype, body, start, end in chunks:
        if ctype in ("tEXt", "zTXt", "iTXt") and body.partition(b"\x00")[0].decode("latin-1") in texts:
            continue
        if ctype == "IEND":
            parts += [text_chunk(k, v) for k, v in texts.items()]
        parts.append(png[start:end])
    return b"".join(parts)


def solid_png(width: int = 256, height: int = 256, rgb: tuple[int, int, int] = (200, 160, 90)) -> bytes:
    """A valid truecolour PNG of ``width`` × ``height`` pixels with a soft vertical gradient of ``rgb``."""
    rows = []
    for y in range(height):
        shade = 0.75 + 0.25 * (1 - y / max(height - 1, 1))
        pixel = bytes(min(255, int(c * shade)) for c in rgb)
        rows.append(b"\x00" + pixel * width)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + _chunk(b"IEND", b"")
