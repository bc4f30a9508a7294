"""tasks.importers: task files (JSON, JSON Lines, CSV/TSV, text, gzip) read into items."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import tracemalloc

import pytest

from tasks.importers import (
    CSV_FIELD_LIMIT,
    SUPPORTED,
    ImportFormatError,
    iter_items,
    streams,
)


def items(filename: str, data: bytes, **kwargs) -> list:
    return list(iter_items(filename=filename, stream=io.BytesIO(data), **kwargs))


def error(filename: str, data: bytes, **kwargs) -> ImportFormatError:
    with pytest.raises(ImportFormatError) as caught:
        items(filename, data, **kwargs)
    return caught.value


class CountingStream(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        data = super().read(size)
        self.bytes_read += len(data)
        return data


# --- JSON ----------------------------------------------------------------------------------
def test_json_list_of_tasks_and_bare_objects():
    data = json.dumps(
        [
            {"data": {"text": "a"}, "annotations": [{"result": []}], "meta": {"k": 1}},
            {"text": "b", "score": 0.5},
        ]
    ).encode()
    assert items("tasks.json", data) == [
        {"data": {"text": "a"}, "annotations": [{"result": []}], "meta": {"k": 1}},
        {"text": "b", "score": 0.5},
    ]


def test_json_numbers_are_plain_floats_and_ints():
    [item] = items("tasks.json", b'[{"f": 0.25, "i": 3, "big": 1e300}]')
    assert item == {"f": 0.25, "i": 3, "big": 1e300}
    assert type(item["f"]) is float


def test_json_single_object_is_one_task():
    assert items("one.json", b'{"data": {"image": "x.png"}}') == [{"data": {"image": "x.png"}}]


def test_json_empty_list_yields_nothing():
    assert items("none.json", b"  [ ]\n") == []


def test_json_with_bom_and_leading_blank_lines():
    assert items("bom.json", b'\xef\xbb\xbf\n\n  [{"a": 1}]') == [{"a": 1}]


def test_json_malformed_item_names_its_index_and_bytes():
    raw = b'[{"a": 1}, {"b": 2}, {"c" 3}]'
    exc = error("tasks.json", raw)
    assert exc.row == 3
    span = re.match(r"tasks\.json item 3, bytes (\d+)-(\d+): ", str(exc))
    assert span, str(exc)
    # The named bytes hold the bad item.
    assert int(span[1]) <= raw.index(b'{"c"') and int(span[2]) >= raw.index(b"3}")
    assert "must be separated by a colon" in str(exc)


def test_json_list_items_read_in_runs_match_the_standard_parser():
    """Runs of items are cut at "}," and parsed at once; cuts that fall inside strings or
    nested values, and chunk edges, must not change a single item."""
    from tasks.importers import formats

    tricky = ['}, {"x": 1}', "a},", "\\u00e9 }}, ,{", '"},\n{"', "plain"]
    items = [
        {"text": f"{tricky[n % len(tricky)]} {n}", "n": n, "nested": {"list": [{"k": n}]}}
        for n in range(3000)
    ]
    raw = json.dumps(items, indent=1).encode()
    assert raw.count(b"},") > len(items)
    original = formats._JSON_LIST_CHUNK_BYTES
    try:
        formats._JSON_LIST_CHUNK_BYTES = 4096  # many chunk edges
        got = list(iter_items(filename="t.json", stream=io.BytesIO(raw)))
    finally:
        formats._JSON_LIST_CHUNK_BYTES = original
    assert got == json.loads(raw)


def test_json_list_of_non_objects_is_refused_with_the_item_number(monkeypatch):
    from tasks.importers import formats

    monkeypatch.setattr(formats, "_JSON_LIST_CHUNK_BYTES", 1024)
    monkeypatch.setattr(formats, "_JSON_LIST_MAX_RUN", 4096)
    raw = json.dumps([{"a": 1}] + [[n, "x" * 50] for n in range(500)]).encode()
    with pytest.raises(ImportFormatError, match="item 2") as caught:
        list(iter_items(filename="t.json", stream=io.BytesIO(raw)))
    assert "expected a JSON object" in str(caught.value)


def test_json_items_before_an_error_are_yielded_first():
    stream = iter_items(filename="t.json", stream=io.BytesIO(b'[{"a": 1}, {"b": 2}, {"c" 3}]'))
    assert next(stream) == {"a": 1}
    assert next(stream) == {"b": 2}
    with pytest.raises(ImportFormatError, match="item 3"):
        next(stream)


def test_json_error_far_into_the_file_names_a_narrow_byte_range():
    body = b"[" + b",".join(b'{"n": %d}' % n for n in range(20_000)) + b", {oops}]"
    exc = error("tasks.json", body)
    assert exc.row == 20_001
    start, end = map(int, re.search(r"bytes (\d+)-(\d+)", str(exc)).groups())
    assert start <= body.index(b"{oops}") <= end
    assert end - start < 20_000


def test_json_truncated_file():
    exc = error("tasks.json", b'[{"a": 1}, {"b": ')
    assert "item 2, the end of the file" in str(exc)
    assert "premature EOF" in str(exc)


def test_json_item_that_is_not_an_object():
    exc = error("tasks.json", b'[{"a": 1}, "just text"]')
    assert str(exc) == ("tasks.json item 2: expected a JSON object (a task or its data), found str")


@pytest.mark.parametrize("body", [b'"text"', b"42", b"null"])
def test_json_top_level_scalar_is_refused(body):
    assert "expected a JSON list of tasks or a single task object" in str(error("t.json", body))


def test_json_empty_file_is_refused():
    assert str(error("t.json", b" \n")) == "t.json: the file is empty"


def test_json_invalid_utf8_is_refused():
    exc = error("t.json", b'[{"a": "caf\xe9"}]')
    assert "item 1" in str(exc)
    assert "UTF8" in str(exc)


def test_json_trailing_garbage_is_refused():
    assert "trailing garbage" in str(error("t.json", b'[{"a": 1}] {"b": 2}'))


# --- JSON Lines ----------------------------------------------------------------------------
@pytest.mark.parametrize("filename", ["tasks.jsonl", "tasks.ndjson", "TASKS.JSONL"])
def test_jsonl_one_object_per_line_skipping_blank_lines(filename):
    data = b'\xef\xbb\xbf{"text": "a"}\n\n   \n{"data": {"text": "b"}}\r\n'
    assert items(filename, data) == [{"text": "a"}, {"data": {"text": "b"}}]


def test_jsonl_bad_line_is_named():
    exc = error("tasks.jsonl", b'{"a": 1}\n\n{"b": 2,}\n')
    assert exc.row == 3
    assert str(exc).startswith("tasks.jsonl line 3: ")
    assert "column 9" in str(exc)


def test_jsonl_line_that_is_not_an_object():
    assert str(error("t.jsonl", b'{"a": 1}\n[1, 2]\n')).startswith("t.jsonl line 2: expected a")


def test_overlong_line_is_refused(monkeypatch):
    monkeypatch.setattr(streams, "MAX_LINE_BYTES", 100)
    exc = error("t.jsonl", b'{"a": 1}\n{"b": "' + b"x" * 200_000 + b'"}\n')
    assert str(exc) == "t.jsonl line 2: the line is longer than 100 bytes"


# --- CSV / TSV -----------------------------------------------------------------------------
def test_csv_header_names_the_fields():
    data = b'text,label\nhello,pos\n"with, comma","two\nlines"\n'
    assert items("tasks.csv", data) == [
        {"text": "hello", "label": "pos"},
        {"text": "with, comma", "label": "two\nlines"},
    ]


def test_csv_with_bom_crlf_and_blank_lines():
    data = b"\xef\xbb\xbftext,n\r\na,1\r\n\r\n,\r\nb,2\r\n"
    assert items("t.csv", data) == [{"text": "a", "n": "1"}, {"text": "b", "n": "2"}]


def test_csv_empty_file_yields_nothing():
    assert items("t.csv", b"") == []


def test_tsv_uses_tabs():
    assert items("t.tsv", b"text\tscore\na, b\t3\n") == [{"text": "a, b", "score": "3"}]


def test_csv_wrong_column_count_names_the_line():
    exc = error("tasks.csv", b"a,b\n1,2\n3,4\n5,6,7\n")
    assert str(exc) == "tasks.csv line 4: expected 2 columns as in the header, found 3"
    assert exc.row == 4


def test_csv_line_numbers_count_lines_inside_quoted_fields():
    exc = error("tasks.csv", b'a,b\n"x\ny\nz",1\n2\n')
    assert exc.row == 5


def test_csv_unterminated_quote_names_the_line_it_opened_on():
    exc = error("tasks.csv", b'a,b\n1,2\n3,"never closed\n4,5\n6,7\n')
    assert str(exc) == "tasks.csv line 3: unterminated quoted field"


def test_csv_stray_quote_is_broken_quoting():
    exc = error("tasks.csv", b'a,b\n"x"y,2\n')
    assert str(exc).startswith("tasks.csv line 2: broken quoting")


def test_csv_not_utf8_names_line_and_byte_offset():
    data = b"text\nok\ncaf\xe9\n"
    exc = error("tasks.csv", data)
    assert str(exc) == (
        "tasks.csv line 3: not valid UTF-8 at byte 11 (invalid continuation byte); "
        "save the file as UTF-8"
    )
    assert data[11] == 0xE9


def test_csv_utf8_error_offset_counts_the_bom():
    exc = error("t.csv", b"\xef\xbb\xbftext\n\xff\n")
    assert "at byte 8 " in str(exc)


def test_csv_field_longer_than_csv_default_limit_is_accepted():
    long_text = "x" * 200_000  # csv defaults to 131072
    [item] = items("t.csv", f'text\n"{long_text}"\n'.encode())
    assert len(item["text"]) == len(long_text)


def test_csv_field_over_our_limit_is_refused():
    exc = error("t.csv", b'text\n"' + b"x" * (CSV_FIELD_LIMIT + 1) + b'"\n')
    assert "line 2: a field is longer than" in str(exc)


@pytest.mark.parametrize(
    ("header", "message"),
    [(b"a,,c", "column 2 has no name"), (b"a,b,a", "column 'a' appears twice")],
)
def test_csv_bad_header_is_refused(header, message):
    exc = error("t.csv", header + b"\n1,2,3\n")
    assert str(exc) == f"t.csv line 1: {message} in the header"


# --- text ----------------------------------------------------------------------------------
def test_txt_one_task_per_non_empty_line():
    data = b"\xef\xbb\xbffirst line\r\n\n   \n  second, indented \nlast"
    assert items("notes.txt", data) == [
        {"text": "first line"},
        {"text": "  second, indented "},
        {"text": "last"},
    ]


# --- format choice -------------------------------------------------------------------------
def test_unknown_extension_lists_supported_ones():
    with pytest.raises(ImportFormatError) as caught:
        iter_items(filename="sheet.xlsx", stream=io.BytesIO(b""))
    message = str(caught.value)
    assert message.startswith("sheet.xlsx: file type '.xlsx' is not supported")
    for ext in (".json", ".jsonl", ".ndjson", ".csv", ".tsv", ".txt", ".png", ".mp3"):
        assert ext in message


def test_media_file_is_not_read_as_tasks():
    with pytest.raises(ImportFormatError, match="image files are imported as media"):
        iter_items(filename="cat.png", stream=io.BytesIO(b"\x89PNG"))


def test_supported_covers_task_and_media_extensions():
    assert {".json", ".jsonl", ".ndjson", ".csv", ".tsv", ".txt", ".png", ".wav"} <= SUPPORTED


def test_content_type_is_used_when_the_name_has_no_extension():
    data = b"a,b\n1,2\n"
    assert items("export", data, content_type="text/csv; charset=utf-8") == [{"a": "1", "b": "2"}]


def test_extension_wins_over_content_type():
    assert items("t.txt", b"x\n", content_type="application/json") == [{"text": "x"}]


def test_path_in_filename_is_ignored_for_the_format():
    assert items("uploads\\2024/tasks.JSON", b"[]") == []


# --- gzip ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("filename", "raw", "expected"),
    [
        ("t.json.gz", b'[{"a": 1}]', [{"a": 1}]),
        ("t.jsonl.gz", b'{"a": 1}\n', [{"a": 1}]),
        ("t.csv.gz", b"a\n1\n", [{"a": "1"}]),
        ("t.txt.gz", b"hi\n", [{"text": "hi"}]),
    ],
)
def test_gzip_is_decompressed_transparently(filename, raw, expected):
    assert items(filename, gzip.compress(raw)) == expected


def test_gzip_bomb_is_capped():
    bomb = gzip.compress(b"\n" * (8 * 2**20))
    assert len(bomb) < 100_000
    exc = error("blank.txt.gz", bomb, max_decompressed_bytes=2**20)
    assert str(exc) == "blank.txt.gz: decompresses to more than 1048576 bytes"


def test_gzip_under_the_cap_is_read_whole():
    assert (
        items("t.txt.gz", gzip.compress(b"a\n" * 1000), max_decompressed_bytes=2000)
        == [{"text": "a"}] * 1000
    )


def test_not_gzip_data_with_gz_name_is_refused():
    assert "not a valid gzip file" in str(error("t.csv.gz", b"a,b\n1,2\n"))


def test_truncated_gzip_is_refused():
    assert "not a valid gzip file" in str(error("t.csv.gz", gzip.compress(b"a\n" * 5000)[:-20]))


# --- streaming -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("filename", "data"),
    [
        ("t.json", b"[" + b",".join([b'{"text": "%d"}' % n for n in range(50_000)]) + b"]"),
        ("t.jsonl", b"".join(b'{"text": "%d"}\n' % n for n in range(50_000))),
        ("t.csv", b"text\n" + b"".join(b"%d\n" % n for n in range(50_000))),
    ],
)
def test_items_are_read_lazily(filename, data):
    stream = CountingStream(data)
    first = next(iter_items(filename=filename, stream=stream))
    assert first == {"text": "0"}
    assert stream.bytes_read < 200_000 < len(data)


ROWS = 100_000
# ~150 bytes a row: loading a whole 100k-row file would hold well over 20 MB.
TEXT = "a moderately long sentence that stands in for a document to label " * 2


def _peak_while_iterating(path, filename: str) -> tuple[int, int]:
    with open(path, "rb") as stream:
        tracemalloc.start()
        try:
            count = sum(1 for _ in iter_items(filename=filename, stream=stream))
            return count, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


def test_large_csv_streams_in_flat_memory(tmp_path):
    path = tmp_path / "big.csv"
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["text"])
        writer.writerows([f"{TEXT} {n}"] for n in range(ROWS))
    assert path.stat().st_size > 10 * 2**20
    count, peak = _peak_while_iterating(path, "big.csv")
    assert count == ROWS
    assert peak < 20 * 2**20


def test_large_json_streams_in_flat_memory(tmp_path):
    path = tmp_path / "big.json"
    with open(path, "w", encoding="utf-8") as out:
        out.write("[")
        out.write(",".join(json.dumps({"text": f"{TEXT} {n}"}) for n in range(ROWS)))
        out.write("]")
    assert path.stat().st_size > 10 * 2**20
    count, peak = _peak_while_iterating(path, "big.json")
    assert count == ROWS
    assert peak < 20 * 2**20
