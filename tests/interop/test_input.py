"""Input as it comes from spreadsheets and other tools: encodings, delimiters, and files that
decode to far more than they weigh (refused early, with the limit named)."""

from __future__ import annotations

import io
import json
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from masterhall.interop import InteropError, import_bytes
from masterhall.interop.errors import MAX_COLUMNS, MAX_DECODED_BYTES, MAX_RECORDS, InputTooLargeError
from masterhall.interop.frames import delimiter_of

ROWS = [
    ("翻译官", "我希望你担任翻译，把我说的每一句话翻成地道的英文，并解释难懂的词。"),
    ("Poet", "I want you to act as a poet; write short poems, in the person's language, about what they describe."),
]


def table_text(sep: str) -> str:
    lines = [sep.join(("act", "prompt"))] + [sep.join((a, f'"{p}"' if sep in p else p)) for a, p in ROWS]
    return "\r\n".join(lines) + "\r\n"


def names(result) -> list[str]:
    return [m.name.en for m in result.masters]


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig"])
def test_chinese_excel_csv_in_its_encoding(encoding):
    result = import_bytes(table_text(",").encode(encoding), "prompts.csv", reserved_ids=())
    assert result.ok and names(result) == ["翻译官", "Poet"]
    assert "我希望你担任翻译，把我说的每一句话翻成地道的英文" in result.masters[0].instructions
    if encoding.startswith("gb"):
        assert any("gb18030" in w and "UTF-8" in w for w in result.warnings)


def test_excel_unicode_text_is_utf16_with_tabs():
    data = table_text("\t").encode("utf-16")  # with its byte-order mark, as Excel writes it
    result = import_bytes(data, "prompts.txt", reserved_ids=())
    assert result.ok and result.format == "table" and names(result) == ["翻译官", "Poet"]
    assert any("UTF-16" in w for w in result.warnings)


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_other_delimiters_are_recognised(sep):
    # a semicolon CSV (Excel in locales with a decimal comma) whose prompts contain commas
    result = import_bytes(table_text(sep).encode("utf-8"), "prompts.csv", reserved_ids=())
    assert result.ok and names(result) == ["翻译官", "Poet"], result.rejected
    assert "," in result.masters[1].instructions
    assert import_bytes(table_text(sep).encode("utf-8"), None, reserved_ids=()).format == "table"


def test_delimiter_fallback_and_windows_1252():
    assert delimiter_of("act;prompt\n") == ";" and delimiter_of("just one column\n") == ","
    assert delimiter_of("a,b;c\n", ".tsv") == "\t"
    text = "act;prompt\nCafé owner;Je veux que tu joues le rôle du propriétaire d'un café, à Paris.\n"
    result = import_bytes(text.encode("cp1252"), "cafe.csv", reserved_ids=())
    assert result.ok and result.masters[0].name.en.startswith("Caf") and result.warnings


def test_our_yaml_in_gb18030_and_binary_junk():
    from masterhall.catalog import load_catalog
    from masterhall.interop import export_master

    master = next(m for m in load_catalog() if m.id == "laozi")
    data = export_master(master, "yaml")[0].decode("utf-8").encode("gb18030")
    result = import_bytes(data, "laozi.yaml", reserved_ids=())
    assert result.masters == [master] and any("gb18030" in w for w in result.warnings)
    with pytest.raises(InteropError, match="not text"):
        import_bytes(bytes(range(256)) * 40, "x.csv")


def _parquet(table: pa.Table, store_schema: bool = True) -> bytes:
    out = io.BytesIO()
    pq.write_table(table, out, compression="zstd", store_schema=store_schema)
    return out.getvalue()


@pytest.mark.parametrize("store_schema", [True, False])  # read back as a dictionary, or as plain strings
def test_a_tiny_parquet_of_repeated_long_prompts_is_refused_quickly(store_schema):
    """2,000 rows repeating one 90,000-character prompt: a few hundred bytes on disk (dictionary
    encoding), 180 MB decoded. It used to become 2,000 masters; now the decoded size is counted
    batch by batch and the file refused near the limit."""
    prompt = pa.DictionaryArray.from_arrays(pa.array([0] * 2000, pa.int32()), pa.array(["z" * 90_000]))
    data = _parquet(pa.table({"act": pa.array([f"Role {i}" for i in range(2000)]), "prompt": prompt}), store_schema)
    assert len(data) < 20_000
    started = time.monotonic()
    with pytest.raises(InputTooLargeError, match=f"the limit is {MAX_DECODED_BYTES:,}") as info:
        import_bytes(data, "tiny.parquet")
    assert time.monotonic() - started < 20 and info.value.limit == MAX_DECODED_BYTES


def test_parquet_footer_is_checked_before_decoding(monkeypatch):
    import masterhall.interop.frames as frames

    monkeypatch.setattr(frames, "MAX_DECODED_BYTES", 1_000_000)
    data = _parquet(pa.table({"act": ["x"], "prompt": ["y" * 2_000_000]}))
    decoded = []
    monkeypatch.setattr(pq.ParquetFile, "iter_batches", lambda *a, **k: decoded.append(1) or iter(()))
    with pytest.raises(InputTooLargeError, match="uncompressed data; the limit is 1,000,000"):
        import_bytes(data, "big.parquet")
    assert decoded == []  # refused from the metadata alone
    rows = _parquet(pa.table({"act": ["a"] * (MAX_RECORDS + 1), "prompt": ["p"] * (MAX_RECORDS + 1)}))
    with pytest.raises(InputTooLargeError, match=f"{MAX_RECORDS + 1:,} rows; the limit is {MAX_RECORDS:,} rows"):
        import_bytes(rows, "rows.parquet")


def test_a_million_columns_are_refused_before_parsing():
    header = ",".join(f"c{i}" for i in range(1_000_000))
    started = time.monotonic()
    with pytest.raises(InputTooLargeError, match=f"1,000,000 columns; the limit is {MAX_COLUMNS} columns"):
        import_bytes((header + "\n" + header + "\n").encode(), "wide.csv")
    assert time.monotonic() - started < 20
    wide = [{f"c{i}": "x" for i in range(MAX_COLUMNS + 1)} | {"act": "a", "prompt": "p"}]
    with pytest.raises(InputTooLargeError, match="columns"):
        import_bytes(json.dumps(wide).encode(), "wide.json")


def test_json_lines_stream_and_stop_at_the_row_limit():
    row = json.dumps({"act": "Guide", "prompt": "You are a guide for hikers; answer with safe, practical steps."})
    blank = (row + "\n" + "\n" * 3_000_000 + "  \n").encode()  # blank lines are skipped cheaply
    started = time.monotonic()
    assert names(import_bytes(blank, "t.jsonl", reserved_ids=())) == ["Guide"]
    assert time.monotonic() - started < 20
    too_many = ("\n".join([row] * (MAX_RECORDS + 1)) + "\n").encode()
    with pytest.raises(InputTooLargeError, match=f"more than {MAX_RECORDS:,} rows"):
        import_bytes(too_many, "t.jsonl")
    empty_objects = b"{}\n" * 2_000_000
    with pytest.raises(InputTooLargeError, match="rows"):
        import_bytes(empty_objects, "t.jsonl")
    with pytest.raises(InputTooLargeError, match="objects and arrays"):
        import_bytes(b"[" + b"{}," * 1_500_000 + b"{}]", "t.json")


def test_records_over_the_limit_are_refused():
    rows = "act,prompt\n" + "".join(f"R{i},Act as helper {i} and answer in short steps.\n" for i in range(MAX_RECORDS + 1))
    with pytest.raises(InputTooLargeError, match=f"the limit is {MAX_RECORDS:,} rows"):
        import_bytes(rows.encode(), "t.csv")
