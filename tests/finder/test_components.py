"""The finder's parts on their own: tokenizer, fusion, dense index, vector store, BM25, names."""

import numpy as np
import pytest

from masterhall import load_catalog
from masterhall.finder.dense import DenseIndex, top_indices
from masterhall.finder.fusion import reciprocal_rank_fusion
from masterhall.finder.lexical import LexicalIndex
from masterhall.finder.names import HAS_NAME, IS_NAME, IS_TAG, NameIndex
from masterhall.finder.text import fingerprint, tokenize
from masterhall.finder.vectors import MAX_SEGMENTS, VectorStore


def test_tokenize_english_and_chinese():
    assert tokenize("I can't sleep, 半夜醒来") == ["sleep", "半", "夜", "醒", "来", "半夜", "夜醒", "醒来"]
    assert tokenize("Running habits") == ["run", "habit"]
    assert tokenize("CBT-I") == ["cbt-i", "cbt"]  # "i" is a stop word
    assert tokenize("ＧＴＤ and A/B tests") == ["gtd", "b", "test"]  # full-width folded; "a" is a stop word
    assert tokenize("the and of") == []


def test_fingerprint_is_stable_and_distinct():
    assert fingerprint("a", [1, 2]) == fingerprint("a", [1, 2])
    assert fingerprint("a", [1, 2]) != fingerprint("a", [2, 1])
    assert len(fingerprint("x")) == 32


def test_reciprocal_rank_fusion_matches_the_formula():
    fused = reciprocal_rank_fusion([(1.0, np.array([2, 0])), (0.5, np.array([0]))], size=3, k=60)
    assert fused[2] == pytest.approx(1 / 61)
    assert fused[0] == pytest.approx(1 / 62 + 0.5 / 61)
    assert fused[1] == 0
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([], 1, k=-1)


def test_top_indices_orders_and_breaks_ties_by_index():
    scores = np.array([0.1, 0.9, 0.5, 0.9])
    assert top_indices(scores, 3).tolist() == [1, 3, 2]
    assert top_indices(scores, 10).tolist() == [1, 3, 2, 0]


def _unit(rng, n, d):
    v = rng.standard_normal((n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_dense_prefilter_agrees_with_exact_search():
    rng = np.random.default_rng(7)
    centers = _unit(rng, 20, 64)
    data = {lang: _unit(rng, 3000, 64) * 0.5 + centers[rng.integers(0, 20, 3000)] for lang in ("zh", "en")}
    data = {lang: v / np.linalg.norm(v, axis=1, keepdims=True) for lang, v in data.items()}
    exact = DenseIndex(64, ("zh", "en"), exact_limit=10_000)
    approx = DenseIndex(64, ("zh", "en"), exact_limit=100, prefilter=600)
    for index in (exact, approx):
        index.set_rows(np.arange(3000), data)
    recall = []
    for query in data["en"][:50]:
        want, _ = exact.search(query, ("zh", "en"), 10)
        got, scores = approx.search(query, ("zh", "en"), 10)
        assert got[0] == want[0]  # the vector itself
        assert np.all(np.diff(scores) <= 1e-6)
        recall.append(len(set(want) & set(got)) / 10)
    assert np.mean(recall) >= 0.9
    full = DenseIndex(64, ("zh", "en"), exact_limit=100, prefilter=5000)
    full.set_rows(np.arange(3000), data)
    q = data["zh"][5]
    assert full.search(q, ("zh",), 10)[0].tolist() == exact.search(q, ("zh",), 10)[0].tolist()


def test_dense_rows_must_not_leave_gaps_and_can_move():
    index = DenseIndex(4, ("zh", "en"))
    vecs = {lang: np.eye(4, dtype=np.float32)[:2] for lang in ("zh", "en")}
    index.set_rows(np.array([0, 1]), vecs)
    with pytest.raises(ValueError):
        index.set_rows(np.array([3]), {lang: np.eye(4, dtype=np.float32)[:1] for lang in ("zh", "en")})
    index.move_row(1, 0)
    index.truncate(1)
    assert len(index) == 1
    assert index.search(np.eye(4, dtype=np.float32)[1], ("en",), 5)[0].tolist() == [0]


def test_vector_store_persists_and_compacts(tmp_path):
    store = VectorStore(tmp_path, 3)
    for i in range(MAX_SEGMENTS + 2):
        store.put([f"k{i}"], np.full((1, 3), i, np.float32))
        assert store.save() == 1
    assert len(list(tmp_path.glob("seg-*.key.npy"))) <= MAX_SEGMENTS
    again = VectorStore(tmp_path, 3)
    assert len(again) == MAX_SEGMENTS + 2
    assert again.get("k5").tolist() == [5.0, 5.0, 5.0]
    assert again.get("missing") is None
    with pytest.raises(ValueError):
        again.put(["a", "b"], np.zeros((1, 3)))
    assert VectorStore(None, 3).save() == 0
    assert VectorStore(tmp_path, 4).get("k1") is None  # other dimension: segments ignored
    many = again.get_many(["k3", "k1"])
    assert many[:, 0].tolist() == [3.0, 1.0]
    with pytest.raises(KeyError):
        again.get_many(["missing"])
    memory = VectorStore(None, 3)
    memory.put(["a"], np.ones((1, 3)))
    assert memory.get("a").tolist() == [1.0, 1.0, 1.0] and "a" in memory


def test_lexical_scores_equal_bm25s():
    import bm25s

    docs = [tokenize(t) for t in ("失眠 睡不着 半夜醒来", "insomnia sleep stress", "python traceback error", "写诗 李白 月亮")]
    index = LexicalIndex()
    for row, doc in enumerate(docs):
        index.set_doc(row, doc)
    reference = bm25s.BM25()
    reference.index(docs, show_progress=False)
    for query in ("睡不着", "python error", "insomnia"):
        terms = [t for t in tokenize(query) if t in reference.vocab_dict]
        assert np.allclose(index.scores(tokenize(query)), reference.get_scores(terms))
    index.move_doc(3, 0)
    index.truncate(3)
    assert index.scores(tokenize("李白"))[0] > 0 and len(index) == 3


def test_lexical_delta_scores_changes_without_a_rebuild():
    texts = [f"common words number {i} filler text" for i in range(200)] + ["insomnia sleep", "python error"]
    index = LexicalIndex()
    for row, text in enumerate(texts):
        index.set_doc(row, tokenize(text))
    index.scores(["sleep"])  # builds the main index
    main = index._main
    index.set_doc(200, tokenize("tea ceremony oolong"))  # edit: old terms gone, new ones found
    index.set_doc(202, tokenize("bonsai pruning"))  # add
    assert index._main is main  # no rebuild for two changes
    assert index.scores(tokenize("sleep"))[200] == 0
    oolong = index.scores(tokenize("oolong tea"))
    assert oolong.argmax() == 200 and oolong[200] > 0
    assert index.scores(tokenize("bonsai")).argmax() == 202
    index.move_doc(202, 5)
    index.truncate(202)
    assert index.scores(tokenize("bonsai")).argmax() == 5 and len(index) == 202
    assert index.scores(tokenize("python error")).argmax() == 201
    before = index.scores(tokenize("oolong tea"))[200]
    index.rebuild()
    assert index._main is not main
    assert index.scores(tokenize("oolong tea"))[200] == pytest.approx(before, rel=0.1)


def test_name_index():
    catalog = load_catalog()
    names = NameIndex()
    for m in catalog.advisors():
        names.put(m)
    assert names.lookup("苏东坡") == {"su-dongpo": IS_NAME}
    assert names.lookup("Aaron Beck")["aaron-beck"] == IS_NAME
    assert names.lookup("GTD")["gtd-coach"] == IS_TAG
    assert names.lookup("can you ask marcus aurelius for me")["marcus-aurelius"] == HAS_NAME
    assert "socrates" not in names.lookup("the socratic method")
    names.remove(catalog.get("su-dongpo"))
    assert names.lookup("苏东坡") == {}
    assert names.lookup("GTD")["gtd-coach"] == IS_TAG
