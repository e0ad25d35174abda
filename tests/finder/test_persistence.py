"""The vector cache: written on build, reused by the next finder instead of encoding again."""

from masterhall import load_catalog
from masterhall.finder import DenseChannel, Finder


class CountingEncoder:
    """Wraps a real encoder and counts the texts it is asked to encode."""

    def __init__(self, inner):
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.document_calls = 0
        self.documents = 0

    def encode_documents(self, texts):
        self.document_calls += 1
        self.documents += len(texts)
        return self.inner.encode_documents(texts)

    def encode_query(self, text):
        return self.inner.encode_query(text)


def _counting(channels):
    return [DenseChannel(c.name, CountingEncoder(c.encoder), c.recipe, c.cross_lingual) for c in channels]


def test_second_build_reads_vectors_from_disk(finder, finder_cache, channels):
    counted = _counting(channels)
    again = Finder(load_catalog(), cache_dir=finder_cache, channels=counted)
    assert [c.encoder.document_calls for c in counted] == [0, 0]
    assert again.stats.encoded == 0 and again.stats.reused > 0
    query = "my boss keeps taking credit for my work"
    assert [m.master_id for m in again.match(query)] == [m.master_id for m in finder.match(query)]


def test_fresh_cache_encodes_once_then_reuses(tmp_path, channels):
    masters = [m for m in load_catalog() if m.id in ("li-bai", "sleep-coach")]
    first = _counting(channels)
    Finder(masters, cache_dir=tmp_path, channels=first)
    assert all(c.encoder.documents > 0 for c in first)
    segments = list((tmp_path / "finder").glob("*/seg-*.key.npy"))
    assert len(segments) == 2  # one segment per encoder
    second = _counting(channels)
    built = Finder(masters, cache_dir=tmp_path, channels=second)
    assert [c.encoder.documents for c in second] == [0, 0]
    assert built.match("写一首关于月亮的诗", k=1)[0].master_id == "li-bai"


def test_damaged_cache_file_is_skipped(tmp_path, channels):
    masters = [m for m in load_catalog() if m.id in ("socrates", "li-bai")]
    Finder(masters, cache_dir=tmp_path, channels=channels)
    assert list((tmp_path / "finder").glob("*/seg-*.vec.npy"))
    for seg in (tmp_path / "finder").glob("*/seg-*.vec.npy"):
        seg.write_bytes(b"not a numpy file")
    counted = _counting(channels)
    rebuilt = Finder(masters, cache_dir=tmp_path, channels=counted)
    assert all(c.encoder.documents > 0 for c in counted)
    assert rebuilt.match("What is virtue?", k=1)[0].master_id == "socrates"


def test_cache_folder_comes_from_the_environment_and_persist_false_writes_nothing(tmp_path, monkeypatch, channels):
    masters = [load_catalog().get("socrates")]
    monkeypatch.setenv("MASTERHALL_CACHE_DIR", str(tmp_path))
    built = Finder(masters, channels=channels)  # vectors not in this empty folder: encoded, saved
    assert built.cache_dir == tmp_path and built.stats.encoded > 0
    assert list((tmp_path / "finder").glob("*/seg-*.key.npy"))
    elsewhere = tmp_path / "other"
    monkeypatch.setenv("MASTERHALL_CACHE_DIR", str(elsewhere))
    memory = Finder(masters, persist=False, channels=channels)
    assert memory.cache_dir is None and not elsewhere.exists()
