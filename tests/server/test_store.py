"""The store: tables, SQLite settings, round trips."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, select, text

from export_widget.server import store
from export_widget.server.store import open_store


def test_open_store_creates_every_table_in_a_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "ws.sqlite"
    engine = open_store(f"sqlite:///{path}")
    assert path.exists()
    names = set(inspect(engine).get_table_names())
    assert set(store.metadata.tables) <= names
    assert "export_tasks" not in names


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    engine = open_store(str(tmp_path / "wal.sqlite"))
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_bare_path_and_reopen_keep_data(tmp_path: Path) -> None:
    path = str(tmp_path / "round.sqlite")
    engine = open_store(path)
    with engine.begin() as conn:
        conn.execute(store.users.insert().values(
            id="cuser", email="zoë@example.com", name="Zoë 李", nickname=None,
            timezone="Europe/Paris", is_owner=True, created_at=1, updated_at=2))
    engine.dispose()
    again = open_store(f"sqlite:///{path}")
    with again.connect() as conn:
        row = conn.execute(select(store.users)).one()
    assert (row.email, row.name, row.timezone, row.is_owner) == (
        "zoë@example.com", "Zoë 李", "Europe/Paris", True)


def test_filter_columns_are_indexed(tmp_path: Path) -> None:
    engine = open_store(str(tmp_path / "ix.sqlite"))
    insp = inspect(engine)
    indexed = {tuple(ix["column_names"]) for t in ("data_rows", "project_rows", "labels")
               for ix in insp.get_indexes(t)}
    assert ("last_activity_at",) in indexed
    assert ("project_id", "workflow_status", "data_row_pk") in indexed
    assert ("batch_id", "data_row_pk") in indexed
    assert ("created_at",) in indexed
