"""Tables in, within limits: CSV/TSV (any delimiter), JSON lines, JSON records and Parquet as
pandas ``DataFrame`` objects, refused *before* they are decoded when they would be too big.

Limits (:mod:`masterhall.interop.errors`): :data:`MAX_RECORDS` rows, :data:`MAX_COLUMNS`
columns, :data:`MAX_DECODED_BYTES` bytes of decoded cells. Compressed and dictionary-encoded
Parquet can hold a million repeats of one long text in a few kilobytes, so Parquet is checked
first from its footer (rows, columns, uncompressed sizes), then read in batches whose decoded
size is counted as they come (a batch is small enough that even its worst case stays near the
limit). JSON lines are read one line at a time, runs of blank lines skipped in one step, and
stop at the first record over the limit. CSV's header is counted before pandas parses anything,
and pandas reads at most one row more than the limit.

The delimiter of a CSV file is told by :class:`csv.Sniffer` on its start (``,`` ``;`` tab or
``|``), checked against the header line; when the sniffer cannot tell, the candidate found most
often in the header wins (``,`` when none is). Text arrives as UTF-8 (see
:func:`masterhall.interop.source.decode`).
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import PurePosixPath

from .errors import MAX_COLUMNS, MAX_DECODED_BYTES, MAX_RECORDS, InputTooLargeError, InteropError, over_limit

#: Delimiters a CSV file may use.
DELIMITERS = ",;\t|"
#: Characters of a CSV file's start shown to the sniffer.
SNIFF_CHARS = 32_768
_LINE = re.compile(r"\S[^\r\n]*")


def delimiter_of(text: str, suffix: str = "") -> str:
    """The delimiter of the CSV ``text`` (see the module doc); ``.tsv`` / ``.tab`` files use tabs."""
    if suffix in (".tsv", ".tab"):
        return "\t"
    header = next((ln for ln in text[:SNIFF_CHARS].splitlines() if ln.strip()), "")
    sample = text[:SNIFF_CHARS]
    if len(text) > SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    try:
        found = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        found = ""
    if found and found in header:
        return found
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_csv(text: str, suffix: str = ""):
    """A ``DataFrame`` of strings from CSV ``text``; refuses too many columns or rows before parsing them."""
    import pandas as pd

    sep = delimiter_of(text, suffix)
    try:
        header = next(csv.reader(io.StringIO(text), delimiter=sep), [])
    except csv.Error as exc:
        raise InteropError(f"cannot read the table's header: {exc}") from None
    if len(header) > MAX_COLUMNS:
        raise over_limit("columns", len(header), MAX_COLUMNS, "the table")
    frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, nrows=MAX_RECORDS + 1)
    _check_shape(len(frame), len(frame.columns))
    return frame


def read_json_lines(text: str):
    """A ``DataFrame`` of JSON lines (one object per non-blank line), read line by line."""
    records: list[dict] = []
    for match in _LINE.finditer(text):
        if len(records) >= MAX_RECORDS:
            raise InputTooLargeError(f"the table has more than {MAX_RECORDS:,} rows; the limit is {MAX_RECORDS:,} rows",
                                     limit=MAX_RECORDS, what="rows")
        try:
            record = json.loads(match.group())
        except (ValueError, RecursionError) as exc:
            line = text.count("\n", 0, match.start()) + 1
            raise InteropError(f"bad JSON on line {line}: {str(exc)[:200]}") from None
        if not isinstance(record, dict):
            line = text.count("\n", 0, match.start()) + 1
            raise InteropError(f"line {line} is not a JSON object (each line of a JSON lines table is one row)")
        records.append(record)
    return records_frame(records)


def records_frame(records: list):
    """A ``DataFrame`` of parsed JSON records (a list of objects), within the row and column limits."""
    import pandas as pd

    if not all(isinstance(r, dict) for r in records):
        raise InteropError("a JSON table must be an array of objects (one per row)")
    columns: set = set()
    for record in records:
        columns.update(record)
        if len(columns) > MAX_COLUMNS:
            raise over_limit("columns", len(columns), MAX_COLUMNS, "the table")
    _check_shape(len(records), len(columns))
    return pd.DataFrame.from_records(records)


def read_parquet(data: bytes):
    """A ``DataFrame`` of a Parquet file: footer checked first, then read in counted batches."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise InteropError("reading Parquet needs pyarrow: pip install pyarrow") from None
    try:
        meta = pq.ParquetFile(io.BytesIO(data)).metadata
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise InteropError(f"cannot read the table (Parquet): {str(exc)[:300]}") from None
    _check_shape(meta.num_rows, meta.num_columns)
    declared = 0
    widest: dict[int, int] = {}
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        for c in range(group.num_columns):
            size = max(group.column(c).total_uncompressed_size, 0)
            declared += size
            widest[c] = max(widest.get(c, 0), size)
    if declared > MAX_DECODED_BYTES:
        raise over_limit("bytes of uncompressed data", declared, MAX_DECODED_BYTES, "the Parquet file")
    # No value is longer than its column chunk, so a batch of this many rows decodes to at most
    # an eighth of the limit even when every row repeats the longest value (dictionary encoding).
    row_bound = max(sum(widest.values()), 1)
    batch_rows = max(1, min(1024, MAX_DECODED_BYTES // 8 // row_bound))
    batches, decoded = [], 0
    try:
        for batch in pq.ParquetFile(io.BytesIO(data)).iter_batches(batch_size=batch_rows):
            decoded += batch.get_total_buffer_size()
            if decoded > MAX_DECODED_BYTES:
                raise over_limit("bytes of decoded data", decoded, MAX_DECODED_BYTES, "the Parquet file")
            batches.append(batch)
        table = pa.Table.from_batches(batches) if batches else pq.read_schema(io.BytesIO(data)).empty_table()
    except (pa.ArrowException, OSError, ValueError) as exc:
        if isinstance(exc, InteropError):
            raise
        raise InteropError(f"cannot read the table (Parquet): {str(exc)[:300]}") from None
    return table.to_pandas()


def _check_shape(rows: int, columns: int) -> None:
    if columns > MAX_COLUMNS:
        raise over_limit("columns", columns, MAX_COLUMNS, "the table")
    if rows > MAX_RECORDS:
        raise over_limit("rows", rows, MAX_RECORDS, "the table")


def check_decoded(frame) -> None:
    """Refuse a frame whose text cells add up to more than :data:`MAX_DECODED_BYTES` characters."""
    total = 0
    for column in frame.columns:
        total += sum(len(v) for v in frame[column].tolist() if isinstance(v, str))
        if total > MAX_DECODED_BYTES:
            raise over_limit("characters of text", total, MAX_DECODED_BYTES, "the table")


def is_parquet(data: bytes, filename: str | None) -> bool:
    """True for Parquet content (its magic bytes) or a ``.parquet`` / ``.pq`` file name."""
    return data[:4] == b"PAR1" or PurePosixPath((filename or "").lower()).suffix in (".parquet", ".pq")
