"""Free text and SQL search over spooled exports of the real server."""

from __future__ import annotations

import threading

import pytest

from export_widget.inspect import Query, QueryError, Search, find, query
from export_widget.inspect.query import text_needle
from export_widget.spool import Spool

from .export_oracle import Export, labels, objects


def lines_with(export: Export, needle: str) -> list[int]:
    return [n for n, raw in enumerate(export.spool.iter_bytes())
            if needle.lower() in raw.decode().lower()]


def test_free_text_matches_rows_case_insensitively(catalog_export: Export) -> None:
    assert find(catalog_export.spool, "reviewer@example.com") == \
        lines_with(catalog_export, "reviewer@example.com")
    assert find(catalog_export.spool, "REJECT") == find(catalog_export.spool, "reject") == \
        lines_with(catalog_export, "reject") != []
    assert find(catalog_export.spool, "street-0007.png") == [6]


def test_free_text_matches_non_ascii_text(catalog_export: Export) -> None:
    assert find(catalog_export.spool, "ceci est un TEST — 你好") == \
        lines_with(catalog_export, "ceci est un test — 你好") != []


def test_free_text_is_matched_as_written_inside_a_json_string() -> None:
    assert text_needle('say "hi" \\ there') == 'say \\"hi\\" \\\\ there'
    with Spool() as spool:
        spool.append(['{"note":"say \\"hi\\""}', '{"note":"say hi"}'])
        assert find(spool, 'SAY "hi"') == [0]


def test_sql_over_labels_finds_the_rows_a_reviewer_rejected(catalog_export: Export) -> None:
    expected = sorted({line for line, _s, _p, _e, label in labels(catalog_export.rows)
                       if any(r["review_action"] == "Reject"
                              for r in label["label_details"]["reviews"])})
    assert find(catalog_export.spool, sql="FROM labels WHERE review_verdicts = 'Reject'") == \
        expected != []


def test_sql_over_annotations_finds_small_car_boxes(image_export: Export) -> None:
    expected = sorted({line for line, _s, _p, _e, label in labels(image_export.rows)
                       for _f, o in objects(label["annotations"])
                       if o["name"] == "car" and o["bounding_box"]["width"] < 100})
    got = find(image_export.spool,
               sql="SELECT line FROM annotations WHERE feature_name = 'car' AND width < 100")
    assert got == expected != []


def test_sql_over_rows_and_classifications(catalog_export: Export) -> None:
    rows = catalog_export.rows
    assert find(catalog_export.spool, sql="FROM rows WHERE media_type = 'VIDEO'") == \
        [n for n, r in enumerate(rows) if r["media_attributes"]["asset_type"] == "video"]
    assert find(catalog_export.spool,
                sql="FROM rows WHERE json->>'$.data_row.details.dataset_name' = 'Invoices'") == \
        [n for n, r in enumerate(rows) if r["data_row"]["details"]["dataset_name"] == "Invoices"]
    rainy = find(catalog_export.spool, sql="FROM classifications WHERE answer = 'heavy'")
    assert rainy and all('"name":"heavy"' in catalog_export.spool.page(n, 1)[0] for n in rainy)
    by_labeler = find(catalog_export.spool, sql=(
        "SELECT line FROM labels WHERE created_by = 'ravi@example.com' "
        "AND media_type = 'IMAGE'"))
    assert by_labeler and set(by_labeler) <= set(find(catalog_export.spool, "ravi@example.com"))


@pytest.mark.parametrize(("sql", "message"), [
    ("FROM labels WHERE (", "sql: Parser Error: syntax error at or near"),
    ("FROM labels WHERE nope = 1", 'sql: Binder Error: Referenced column "nope" not found'),
    ("SELECT 1 AS x", "sql: the query must return the column line"),
    ("FROM rows; FROM labels", "sql: one query only, got 2 statements"),
    ("COPY (FROM rows) TO 'out.csv'", "sql: must be a SELECT (or FROM ...) query, got COPY"),
    ("SELECT 1 AS line FROM read_text('/etc/hostname')", "sql: Permission Error"),
    ("  ;", "sql: must not be empty"),
])
def test_a_malformed_query_gets_a_clear_message(image_export: Export, sql: str,
                                                message: str) -> None:
    with pytest.raises(QueryError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        find(image_export.spool, sql=sql)


def test_a_query_is_text_or_sql() -> None:
    with pytest.raises(QueryError, match="query: give either text or sql"):
        Query()
    with pytest.raises(QueryError, match="query: give either text or sql"):
        Query(text="a", sql="FROM rows")
    with pytest.raises(QueryError, match="text: must not be empty"):
        Query(text="  ")


def test_matches_grow_while_the_spool_grows(image_export: Export) -> None:
    total = len(image_export.rows)
    expected = find(image_export.spool, sql="FROM labels WHERE workflow_status = 'DONE'")
    with Spool() as spool:
        search = Search(spool, Query(sql="FROM labels WHERE workflow_status = 'DONE'"))
        assert search.advance() == 0 and search.scanned == 0
        spool.append(image_export.spool.page_bytes(0, total // 2))
        first = search.advance()
        assert search.scanned == total // 2
        spool.append(image_export.spool.page_bytes(total // 2, total))
        progress: list[tuple[int, int]] = []
        second = search.advance(lambda done, of: progress.append((done, of)))
        assert first > 0 and second > 0 and search.count == first + second
        assert list(search.matches) == expected
        assert progress[-1] == (total - total // 2, total - total // 2)
        assert search.page(1, 2) == expected[1:3]
        assert search.index_of(expected[2]) == 2


def test_a_cancelled_search_stops_scanning(image_export: Export) -> None:
    search = Search(image_export.spool, Query(text="car"))
    search.cancel()
    assert search.advance() == 0 and search.scanned == 0 and search.cancelled


def test_searches_run_in_parallel_threads(catalog_export: Export) -> None:
    results: dict[str, list[int]] = {}
    queries = {"labels": "FROM labels WHERE workflow_status = 'IN_REWORK'",
               "annotations": "FROM annotations WHERE annotation_kind = 'ImagePoint'",
               "classifications": "FROM classifications WHERE answer_kind = 'text'"}

    def run(name: str) -> None:
        results[name] = find(catalog_export.spool, sql=queries[name])

    threads = [threading.Thread(target=run, args=(name,)) for name in queries]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {k: find(catalog_export.spool, sql=q) for k, q in queries.items()} == results
    assert all(results.values())


def test_sql_matches_do_not_depend_on_how_the_spool_is_chunked(
        catalog_export: Export, monkeypatch: pytest.MonkeyPatch) -> None:
    sql = "FROM annotations a JOIN labels l USING (line, label_id) WHERE l.source = 'project'"
    whole = find(catalog_export.spool, sql=sql)
    monkeypatch.setattr(query, "SQL_CHUNK_LINES", 3)
    progress: list[tuple[int, int]] = []
    assert find(catalog_export.spool, sql=sql, on_progress=lambda *p: progress.append(p)) == \
        whole != []
    assert len(progress) == -(-len(catalog_export.rows) // 3)
