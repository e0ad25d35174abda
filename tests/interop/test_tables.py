"""Tables of prompts through pandas: CSV, JSON lines, Parquet, JSON records; mappings; URLs."""

from __future__ import annotations

import io
import json
import time

import pandas as pd
import pytest

from masterhall.interop import InteropError, import_bytes, import_source
from masterhall.interop.table import parse_mapping

ROWS = 1000


def prompts_frame(n: int = ROWS) -> pd.DataFrame:
    rows = [
        {"act": f"Expert number {i} in gardening", "prompt": f"I want you to act as gardening expert {i}. Answer with practical steps.", "for_devs": i % 2 == 0}
        for i in range(n)
    ]
    if n > 7:
        rows[7]["act"] = rows[6]["act"]  # a duplicate name: ids stay unique
    return pd.DataFrame(rows)


def encode(frame: pd.DataFrame, kind: str) -> bytes:
    buf = io.BytesIO()
    if kind == "csv":
        frame.to_csv(buf, index=False)
    elif kind == "jsonl":
        frame.to_json(buf, orient="records", lines=True, force_ascii=False)
    else:
        frame.to_parquet(buf, index=False)
    return buf.getvalue()


@pytest.mark.parametrize("kind", ["csv", "jsonl", "parquet"])
def test_a_thousand_rows_import(kind):
    data = encode(prompts_frame(), kind)
    started = time.perf_counter()
    result = import_bytes(data, f"prompts.{kind}")
    print(f"{kind}: {ROWS} rows in {time.perf_counter() - started:.2f} s")
    assert result.ok and result.format == "table"
    assert len(result.masters) == ROWS
    ids = [m.id for m in result.masters]
    assert len(set(ids)) == ROWS and ids[6] == "expert-number-6-in-gardening" and ids[7] == ids[6] + "-2"
    m = result.masters[3]
    assert m.name.en == m.name.zh == "Expert number 3 in gardening"
    assert m.instructions.startswith("I want you to act as gardening expert 3.")
    assert m.category == "life" and m.tags.en == ["expert", "number", "gardening"]
    assert len(m.starters.en) == len(m.starters.zh) == 3 and "Expert number 3 in gardening" in m.greeting.en
    assert m.extensions["table"]["for_devs"] in (False, "False")


def test_mapping_and_category_and_extra_columns():
    frame = pd.DataFrame([
        {"Title": "Haiku Poet", "System": "Write haiku about whatever the person mentions, 5-7-5.", "Kind": "poetry", "Emoji": "🌸"},
        {"Title": "写作教练", "System": "你是一位写作教练，帮助用户改进文章的结构、用词和节奏，每次只给出三条最重要的修改建议。", "Kind": "writing", "Emoji": ""},
    ])
    result = import_bytes(encode(frame, "csv"), "t.csv", mapping="Title=name,System=instructions,Kind=category",
                          category=None)
    poet, coach = result.masters
    assert poet.category == "life" and coach.category == "writing"  # "poetry" is none of ours
    assert poet.avatar == "🌸" and poet.extensions == {}  # Emoji matched the avatar column by name
    assert coach.name.zh == "写作教练" and coach.id.startswith("m-") and coach.greeting.zh.startswith("你好，我是写作教练")
    forced = import_bytes(encode(frame, "csv"), "t.csv", mapping={"Title": "name", "System": "instructions"}, category="tech")
    assert {m.category for m in forced.masters} == {"tech"}
    assert forced.masters[0].extensions["table"]["Kind"] == "poetry"


def test_short_prompts_are_padded_and_empty_cells_rejected():
    frame = pd.DataFrame([
        {"act": "Pirate", "prompt": "Talk like a pirate."},
        {"act": "", "prompt": "A prompt without a name, long enough to be a prompt anyway."},
        {"act": "Nobody", "prompt": ""},
    ])
    result = import_bytes(encode(frame, "csv"), "t.csv")
    assert not result.ok and [m.name.en for m in result.masters] == ["Pirate"]
    assert result.masters[0].instructions.startswith("You are Pirate.") and "Talk like a pirate." in result.masters[0].instructions
    assert [(r.index, r.field) for r in result.rejected] == [(1, "name"), (2, "instructions")]
    assert str(result.rejected[1]) == "record 3 ('Nobody'): field 'instructions': the prompt cell is empty"


def test_json_records_tsv_and_tags():
    rows = [{"name": "Mentor", "prompt": "You mentor junior developers with patience and concrete code reviews.", "tags": "code, review; mentoring"}]
    [m] = import_bytes(json.dumps(rows).encode(), "rows.json").masters
    assert m.tags.en == ["code", "review", "mentoring"]
    tsv = "name\tinstructions\nPlanner\tYou plan weeks with the person: priorities first, then time blocks.\n"
    assert import_bytes(tsv.encode(), "plan.tsv").masters[0].name.en == "Planner"


def test_table_problems_are_clear():
    with pytest.raises(InteropError, match="no prompt column"):
        import_bytes(b"act,text\nx,y\n", "t.csv")
    with pytest.raises(InteropError, match="no column 'missing'"):
        import_bytes(b"act,prompt\nx,y\n", "t.csv", mapping="missing=name")
    with pytest.raises(InteropError, match="cannot map column"):
        parse_mapping("act=colour")
    with pytest.raises(InteropError, match="expected COLUMN=FIELD"):
        parse_mapping("act")
    with pytest.raises(InteropError, match="cannot read the table"):
        import_bytes(b"PAR1 this is no parquet file", "t.parquet")
    with pytest.raises(InteropError, match="no rows"):
        import_bytes(b"act,prompt\n", "t.csv")
    with pytest.raises(InteropError, match="applies to tables only"):
        import_bytes(b"{}", fmt="card", mapping="act=name")
    big = "act,prompt\nx," + "y" * 100_001 + "\n"
    with pytest.raises(InteropError, match="row 1, column 'prompt'"):
        import_bytes(big.encode(), "t.csv")


def test_import_source_reads_files_and_urls(tmp_path, monkeypatch):
    path = tmp_path / "prompts.csv"
    path.write_bytes(encode(prompts_frame(5), "csv"))
    assert len(import_source(path).masters) == 5
    assert len(import_source(f"file://{path}").masters) == 5
    with pytest.raises(InteropError, match="no such file"):
        import_source(tmp_path / "absent.csv")
    with pytest.raises(InteropError, match="larger than"):
        import_source(path, max_bytes=10)
    # hf:// and other schemes go through fsspec: without it, a clear message; with it, a real read
    import builtins

    real_import = builtins.__import__

    def no_fsspec(name, *args, **kwargs):
        if name == "fsspec":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_fsspec)
    with pytest.raises(InteropError, match="needs fsspec"):
        import_source("hf://datasets/someone/prompts/prompts.csv")
    monkeypatch.setattr(builtins, "__import__", real_import)


def test_fsspec_urls_are_read():
    fsspec = pytest.importorskip("fsspec")
    with fsspec.open("memory://interop-test/prompts.parquet", "wb") as fh:
        fh.write(encode(prompts_frame(12), "parquet"))
    result = import_source("memory://interop-test/prompts.parquet")
    assert len(result.masters) == 12 and result.format == "table"
    with pytest.raises(InteropError, match="not found|cannot read"):
        import_source("memory://interop-test/absent.csv")


def test_http_urls_are_read_with_a_size_limit(monkeypatch):
    import contextlib

    import httpx

    body = encode(prompts_frame(4), "csv")
    seen = []

    class Response:
        status_code = 200

        def iter_bytes(self):
            yield body[:50]
            yield body[50:]

    @contextlib.contextmanager
    def fake_stream(method, url, **kwargs):
        seen.append((method, url))
        yield Response()

    monkeypatch.setattr(httpx, "stream", fake_stream)
    result = import_source("https://example.invalid/data/prompts.csv?download=1")
    assert len(result.masters) == 4 and seen == [("GET", "https://example.invalid/data/prompts.csv?download=1")]
    with pytest.raises(InteropError, match="larger than"):
        import_source("https://example.invalid/prompts.csv", max_bytes=60)
    Response.status_code = 404
    with pytest.raises(InteropError, match="HTTP 404"):
        import_source("https://example.invalid/prompts.csv")
