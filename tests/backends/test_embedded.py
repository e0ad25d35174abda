import dataclasses
import hashlib

import pytest

from masterhall.backends import embedded


@pytest.fixture
def fake_chunks(tmp_path, monkeypatch):
    """Three small chunk files standing in for the six packages, and a private cache dir."""
    parts = []
    for i, data in enumerate([b"GGUF" + b"a" * 1000, b"b" * 2000, b"c" * 10]):
        path = tmp_path / f"part0{i + 1}.bin"
        path.write_bytes(data)
        parts.append(path)
    whole = b"".join(p.read_bytes() for p in parts)
    model = dataclasses.replace(embedded.DEFAULT_MODEL, size_bytes=len(whole), sha256=hashlib.sha256(whole).hexdigest())
    monkeypatch.setattr(embedded, "DEFAULT_MODEL", model)
    monkeypatch.setattr(embedded, "chunk_paths", lambda m=model: parts)
    monkeypatch.setenv("MASTERHALL_CACHE_DIR", str(tmp_path / "cache"))
    return parts, whole


def test_assembles_once_with_progress_and_verifies(fake_chunks):
    parts, whole = fake_chunks
    seen = []
    path = embedded.embedded_model_path(lambda done, total: seen.append((done, total)))
    assert path.read_bytes() == whole
    assert seen and seen[-1] == (len(whole), len(whole))
    mtime = path.stat().st_mtime_ns
    seen.clear()
    assert embedded.embedded_model_path(lambda d, t: seen.append(d)) == path
    assert seen == [] and path.stat().st_mtime_ns == mtime  # reused, not rebuilt


def test_corrupt_chunk_is_refused(fake_chunks, monkeypatch):
    parts, whole = fake_chunks
    parts[1].write_bytes(b"x" * 2000)  # same size, different bytes
    with pytest.raises(embedded.EmbeddedModelError, match="sha256"):
        embedded.embedded_model_path()
    assert not list((embedded.cache_dir()).glob("*.gguf"))  # nothing half-written left behind


def test_wrong_size_is_refused(fake_chunks):
    parts, _ = fake_chunks
    parts[2].write_bytes(b"c" * 11)
    with pytest.raises(embedded.EmbeddedModelError, match="add up to"):
        embedded.embedded_model_path()


def test_tampered_cached_file_is_rebuilt(fake_chunks):
    _, whole = fake_chunks
    path = embedded.embedded_model_path()
    path.write_bytes(b"z" * len(whole))
    assert embedded.embedded_model_path().read_bytes() == whole


@pytest.mark.parametrize("model", embedded.EMBEDDED_MODELS, ids=lambda m: m.backend)
def test_missing_package_named_in_error(model):
    broken = dataclasses.replace(model, distribution=model.distribution.replace("part{i}", "part{i}-missing"))
    with pytest.raises(embedded.EmbeddedModelError, match=r"part1-missing") as info:
        embedded.chunk_paths(broken)
    assert "pip install --force-reinstall" in str(info.value) and f"=={model.version}" in str(info.value)


@pytest.mark.parametrize("model", embedded.EMBEDDED_MODELS, ids=lambda m: m.backend)
def test_chunk_packages_are_installed_and_add_up(model):
    """The pinned chunk packages are installed and their sizes add up to the model's size."""
    paths = embedded.chunk_paths(model)
    assert len(paths) == model.parts
    assert [p.name for p in paths] == [f"part{i:02d}.bin" for i in range(1, model.parts + 1)]
    assert sum(p.stat().st_size for p in paths) == model.size_bytes


def test_default_is_the_larger_model():
    assert embedded.DEFAULT_MODEL.backend == "embedded"
    assert embedded.DEFAULT_MODEL.size_bytes > embedded.embedded_model("embedded-small").size_bytes
    assert embedded.embedded_model("nope") is None


def test_concurrent_callers_assemble_once(fake_chunks):
    import threading

    _, whole = fake_chunks
    calls = []
    results = []

    def worker():
        results.append(embedded.embedded_model_path(lambda d, t: calls.append(d)))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1 and results[0].read_bytes() == whole
    assert calls.count(len(whole)) == 1  # one assembly reached the end, the others reused it
