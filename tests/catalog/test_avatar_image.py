"""``Master.avatar_image``: an optional uploaded picture, accepted only as a small raster data URL."""

from __future__ import annotations

import base64
import struct
import zlib

import pytest
from pydantic import ValidationError

from masterhall.catalog import load_catalog
from masterhall.catalog.models import AVATAR_IMAGE_MAX_BYTES, Master


def tiny_png() -> bytes:
    """A valid 1×1 PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\xb8\x43\x2e")) + chunk(b"IEND", b"")


def url(kind: str, data: bytes) -> str:
    return f"data:image/{kind};base64," + base64.b64encode(data).decode()


@pytest.fixture(scope="module")
def base() -> dict:
    return load_catalog().get("socrates").model_dump()


def make(base: dict, image) -> Master:
    return Master.model_validate({**base, "id": "pic-master", "avatar_image": image})


@pytest.mark.parametrize("kind, data", [
    ("png", tiny_png()),
    ("jpeg", b"\xff\xd8\xff\xe0" + b"\x00" * 20),
    ("gif", b"GIF89a" + b"\x00" * 20),
    ("webp", b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 8),
])
def test_raster_data_urls_are_accepted(base, kind, data):
    m = make(base, url(kind, data))
    assert m.avatar_image == url(kind, data)
    assert Master.model_validate(m.model_dump()).avatar_image == m.avatar_image  # round trip


def test_it_is_optional_and_blank_means_none(base):
    assert Master.model_validate(base).avatar_image is None
    assert make(base, None).avatar_image is None
    assert make(base, "  ").avatar_image is None
    assert "avatar_image" not in Master.model_validate(base).model_dump(exclude_none=True)


@pytest.mark.parametrize("bad", [
    "javascript:alert(1)",
    "https://example.com/a.png",
    "data:image/svg+xml;base64," + base64.b64encode(b"<svg onload='alert(1)'/>").decode(),
    "data:text/html;base64," + base64.b64encode(b"<script>alert(1)</script>").decode(),
    "data:image/png," + "%89PNG",                                    # not base64
    "data:image/png;charset=utf-8;base64," + base64.b64encode(tiny_png()).decode(),  # parameters
    "data:image/png;base64," + base64.b64encode(tiny_png()).decode() + '" onerror="alert(1)',
    "data:image/png;base64," + base64.b64encode(tiny_png()).decode()[:-3],  # bad padding
    "data:image/png;base64," + base64.b64encode(b"<script>alert(1)</script>").decode(),  # not a PNG
    "data:image/gif;base64," + base64.b64encode(tiny_png()).decode(),  # type mismatch
    "DATA:IMAGE/PNG;BASE64," + base64.b64encode(tiny_png()).decode(),
    "data:image/png;base64,\n" + base64.b64encode(tiny_png()).decode(),
])
def test_anything_else_is_rejected_on_the_field(base, bad):
    with pytest.raises(ValidationError) as info:
        make(base, bad)
    assert [e["loc"] for e in info.value.errors()] == [("avatar_image",)]


def test_size_limit(base):
    big = tiny_png() + b"\x00" * (AVATAR_IMAGE_MAX_BYTES + 1 - len(tiny_png()))
    with pytest.raises(ValidationError, match="200 KB"):
        make(base, url("png", big))
    just = tiny_png() + b"\x00" * (AVATAR_IMAGE_MAX_BYTES - len(tiny_png()))
    assert make(base, url("png", just)).avatar_image
    with pytest.raises(ValidationError, match="200 KB"):
        make(base, url("png", big * 3))


def test_not_a_string(base):
    with pytest.raises(ValidationError):
        make(base, 42)
