"""The spool: append while reading, pages by line, unicode, bad input named."""

from __future__ import annotations

import json
import threading

import pytest

from export_widget.spool import Spool


def test_page_returns_the_lines_asked_for(tmp_path):
    with Spool(tmp_path) as spool:
        spool.append(json.dumps({"i": i}) for i in range(100))
        assert spool.count == 100
        assert [json.loads(x)["i"] for x in spool.page(0, 3)] == [0, 1, 2]
        assert [json.loads(x)["i"] for x in spool.page(97, 10)] == [97, 98, 99]
        assert spool.page(100, 5) == []
        assert spool.page(5, 0) == []


def test_page_keeps_multibyte_text_whole(tmp_path):
    with Spool(tmp_path) as spool:
        spool.append(["{\"t\": \"東京\"}", "{\"t\": \"é🙂\"}", "{}"])
        assert spool.page(1, 2) == ["{\"t\": \"é🙂\"}", "{}"]
        assert spool.size == len("{\"t\": \"東京\"}\n{\"t\": \"é🙂\"}\n{}\n".encode())


def test_append_accepts_bytes_and_strips_one_trailing_newline(tmp_path):
    with Spool(tmp_path) as spool:
        spool.append([b"{\"a\":1}\n", "{\"b\":2}"])
        assert spool.page(0, 2) == ["{\"a\":1}", "{\"b\":2}"]


def test_line_with_inner_newline_is_refused_and_nothing_written(tmp_path):
    with Spool(tmp_path) as spool:
        with pytest.raises(ValueError, match="line: must not contain a newline"):
            spool.append(["{}", "{\n}"])
        assert spool.count == 0


def test_negative_line_names_the_argument(tmp_path):
    with Spool(tmp_path) as spool, pytest.raises(ValueError, match="line: must be 0 or more"):
        spool.page(-1, 5)


def test_readers_see_only_whole_lines_while_the_writer_appends(tmp_path):
    spool = Spool(tmp_path)
    total = 20_000
    done = threading.Event()
    problems: list[str] = []

    def writer() -> None:
        for start in range(0, total, 250):
            batch = range(start, start + 250)
            spool.append(json.dumps({"i": i, "pad": "x" * (i % 37)}) for i in batch)
        done.set()

    def reader() -> None:
        while not done.is_set() or spool.count < total:
            n = spool.count
            if n == 0:
                continue
            line = max(0, n - 40)
            for k, raw in enumerate(spool.page(line, 40)):
                row = json.loads(raw)
                if row["i"] != line + k:
                    problems.append(f"line {line + k} held {row['i']}")
            if done.is_set() and spool.count >= total:
                break

    threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert problems == []
    assert spool.count == total
    assert json.loads(spool.page(total - 1, 1)[0])["i"] == total - 1
    spool.close()


def test_temporary_spool_is_deleted_on_close():
    spool = Spool()
    spool.append(["{}"])
    directory = spool.directory
    assert directory.exists()
    spool.close()
    assert not directory.exists()


def test_iter_bytes_walks_a_range(tmp_path):
    with Spool(tmp_path) as spool:
        spool.append(str(i) for i in range(2500))
        assert [int(x) for x in spool.iter_bytes(10, 2010, batch=300)] == list(range(10, 2010))
