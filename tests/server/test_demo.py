"""The demo workspace: deterministic, idempotent, complete, and scalable."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine, func, select

from export_widget.server import store
from export_widget.server.demo import media
from export_widget.server.demo.seed import LARGE_PROJECT, MEDIA, seed_demo
from export_widget.server.export_query import prepare_export
from export_widget.server.export_spec import ExportSpec
from export_widget.server.store import open_store
from export_widget.server.workspace import Workspace


def seeded(path: Path, seed: int = 7, rows: int = 0) -> Engine:
    eng = open_store(str(path))
    seed_demo(eng, rows=rows, seed=seed)
    return eng


def snapshot(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    out = {}
    with engine.connect() as conn:
        for name in ("data_rows", "labels", "project_rows", "batches", "predictions",
                     "slices", "workflow_history", "model_run_rows"):
            table = store.metadata.tables[name]
            out[name] = sorted(tuple(r) for r in conn.execute(select(table)))
    return out


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return seeded(tmp_path_factory.mktemp("demo") / "store.sqlite")


def count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(
            store.metadata.tables[table])).scalar() or 0)


def test_same_seed_gives_the_same_workspace(engine: Engine, tmp_path: Path) -> None:
    other = seeded(tmp_path / "again.sqlite")
    assert snapshot(other) == snapshot(engine)


def test_another_seed_gives_other_ids(engine: Engine, tmp_path: Path) -> None:
    other = seeded(tmp_path / "seed8.sqlite", seed=8)
    ids7 = {p["id"] for p in Workspace(engine).projects()}
    ids8 = {p["id"] for p in Workspace(other).projects()}
    assert ids7.isdisjoint(ids8)
    assert len(ids7) == len(ids8)


def test_seeding_twice_is_a_no_op(engine: Engine) -> None:
    before = snapshot(engine)
    seed_demo(engine)
    assert snapshot(engine) == before


def test_demo_ids_are_25_char_cuid_like(engine: Engine) -> None:
    with engine.connect() as conn:
        ids = [r[0] for r in conn.execute(select(store.data_rows.c.id))]
        ids += [r[0] for r in conn.execute(select(store.labels.c.id))]
    assert ids and all(len(i) == 25 and i[0] == "c" and i.isalnum() and i.islower()
                       for i in ids)
    assert len(set(ids)) == len(ids)


def test_every_media_type_has_a_project_with_every_workflow_state(engine: Engine) -> None:
    ws = Workspace(engine)
    projects = {p["allowedMediaType"]: p for p in ws.projects()}
    assert set(projects) == {m.media_type for m in MEDIA}
    for project in projects.values():
        assert len(ws.batches(project["id"])["nodes"]) >= 2
        with engine.connect() as conn:
            pr = store.project_rows
            states = {r[0] for r in conn.execute(select(pr.c.workflow_status)
                                                 .where(pr.c.project_id == project["id"]))}
        assert states == {"TO_LABEL", "IN_REVIEW", "IN_REWORK", "DONE"}


def test_reviews_history_models_and_slices_exist(engine: Engine) -> None:
    ws = Workspace(engine)
    assert count(engine, "reviews") > 0 and count(engine, "workflow_history") > 0
    models = ws.models()
    # One model per medium that model runs export: image, text, video, geospatial tiles.
    assert sorted(m["name"] for m in models) == [
        "Entity Tagger", "Land Use Segmenter", "Street Detector", "Traffic Tracker"]
    assert all(ws.model_runs(m["id"]) for m in models)
    with engine.connect() as conn:
        splits = {r[0] for r in conn.execute(select(store.model_run_rows.c.split))}
    assert splits == {"Training", "Validation", "Test"}
    assert len(ws.slices()) >= 2
    assert count(engine, "predictions") > 0


def test_demo_has_non_ascii_text_in_rows(engine: Engine) -> None:
    spec = ExportSpec("catalog", None, [], {"includeAttachments": True}, "UTC", "")
    blob = b"".join(batch.result for batch in prepare_export(engine, spec).batches())
    text = blob.decode()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in text)  # CJK
    assert "é" in text or "ü" in text


def test_label_times_span_the_documented_range(engine: Engine) -> None:
    with engine.connect() as conn:
        lo, hi = conn.execute(select(func.min(store.labels.c.created_at),
                                     func.max(store.labels.c.created_at))).one()
    assert 1_704_067_200_000 <= lo < 1_709_251_200_000  # some in Jan/Feb 2024
    assert 1_714_521_600_000 < hi <= 1_719_792_000_000  # some in May/June 2024


def test_rows_n_adds_n_image_rows_in_the_large_project(tmp_path: Path) -> None:
    eng = seeded(tmp_path / "large.sqlite")
    base = count(eng, "data_rows")
    seed_demo(eng, rows=2_345)
    assert count(eng, "data_rows") == base + 2_345
    ws = Workspace(eng)
    large = next(p for p in ws.projects() if p["name"] == LARGE_PROJECT)
    assert large["dataRowCount"] == 2_345
    assert prepare_export(eng, ExportSpec("project", large["id"], [], {}, "UTC", "")).lines == 2_345
    seed_demo(eng, rows=2_345)
    assert count(eng, "data_rows") == base + 2_345
    # Growing continues where it stopped and matches a one-shot seed.
    seed_demo(eng, rows=12_000)
    assert count(eng, "data_rows") == base + 12_000
    batches = ws.batches(large["id"])["nodes"]
    assert [b["size"] for b in batches] == [10_000, 2_000]
    one_shot = seeded(tmp_path / "oneshot.sqlite", rows=12_000)
    assert snapshot(one_shot) == snapshot(eng)


def test_large_rows_export_with_states_and_labels(tmp_path: Path) -> None:
    eng = seeded(tmp_path / "large2.sqlite", rows=400)
    ws = Workspace(eng)
    pid = next(p["id"] for p in ws.projects() if p["name"] == LARGE_PROJECT)
    spec = ExportSpec("project", pid, [{"type": "task_queue_status", "status": "Done"}],
                      {"includeProjectDetails": True, "includeLabelDetails": True},
                      "UTC", "http://x")
    batches = prepare_export(eng, spec).batches()
    rows = [orjson.loads(line) for b in batches for line in b.result_lines()]
    assert len(rows) == 100
    for row in rows:
        entry = row["projects"][pid]
        assert entry["project_details"]["workflow_status"] == "DONE"
        (label,) = entry["labels"]
        assert label["annotations"]["objects"][0]["annotation_kind"] == "ImageBoundingBox"
        assert label["label_details"]["reviews"][0]["review_action"] == "Approve"
        assert row["data_row"]["global_key"].startswith("large-")


def test_negative_rows_is_rejected(engine: Engine) -> None:
    with pytest.raises(ValueError, match="rows: must be >= 0, got -1"):
        seed_demo(engine, rows=-1)


# --- media ------------------------------------------------------------------------------


def test_render_media_produces_valid_files_for_every_kind() -> None:
    cases = {
        "images/street-0001.png": ("image/png", b"\x89PNG"),
        "/media/masks/street-0001-sky.png": ("image/png", b"\x89PNG"),
        "overlays/street-0001.svg": ("image/svg+xml", b"<svg"),
        "videos/clip-0001.webm": ("video/webm", b"\x1aE\xdf\xa3"),
        "text/article-0003.txt": ("text/plain; charset=utf-8", None),
        "html/page-0001.html": ("text/html; charset=utf-8", b"<!doctype html>"),
        "conversations/chat-0001.json": ("application/json", b"{"),
        "documents/invoice-0001.pdf": ("application/pdf", b"%PDF-1.4"),
        "audio/call-0001.wav": ("audio/wav", b"RIFF"),
        "tiles/tile-0001.png": ("image/png", b"\x89PNG"),
    }
    for path, (ctype, magic) in cases.items():
        rendered = media.render_media(path)
        assert rendered is not None, path
        body, got = rendered
        assert got == ctype
        if magic is not None:
            assert body.startswith(magic), path
    text = media.render_media("text/article-0003.txt")
    assert text is not None and text[0].decode() == media.text_document("article-0003.txt")


def test_pdf_xref_offsets_point_at_objects() -> None:
    rendered = media.render_media("documents/invoice-0002.pdf")
    assert rendered is not None
    body = rendered[0]
    xref = int(body.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    assert body[xref:xref + 4] == b"xref"
    entries = body[xref:].split(b"\n")[3:]
    for n, entry in enumerate(entries, start=1):
        if not entry.endswith(b" n "):
            break
        offset = int(entry[:10])
        assert body[offset:].startswith(b"%d 0 obj" % n)


def test_render_media_refuses_unknown_or_unsafe_paths() -> None:
    assert media.render_media("secrets/key.txt") is None
    assert media.render_media("images/../../etc/passwd") is None
    assert media.render_media("images/a/b.png") is None
    assert media.render_media("") is None
