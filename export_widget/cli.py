"""`export-widget serve` runs the export server; `export-widget seed` loads the demo."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import uvicorn
from sqlalchemy.engine import make_url

from export_widget.server.process import API_KEY_ENV
from export_widget.server.retention import (
    RETENTION_DAYS_ENV,
    RETENTION_SIZE_ENV,
    Retention,
    parse_size,
)
from export_widget.server.runner import DEFAULT_DATA_DIR, build_server, new_api_key
from export_widget.server.team.leases import LEASE_SECONDS


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="export-widget",
                                     description="Labelbox-style export server and tools.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the export server")
    serve.add_argument("--demo", action="store_true", help="seed the demo workspace")
    serve.add_argument("--db", metavar="URL", default=None,
                       help="SQLAlchemy URL of the store (default: DATA_DIR/store.sqlite)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="interface to bind (default 127.0.0.1, loopback only)")
    serve.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 = any)")
    serve.add_argument("--api-key", default=os.environ.get(API_KEY_ENV),
                       help=f"the API key clients must send (default: ${API_KEY_ENV}, else "
                            "generated); the environment variable keeps it out of `ps`")
    serve.add_argument("--rows", type=int, default=0,
                       help="with --demo: grow the large image project to N rows")
    # For a parent that starts the server as its child (the widget in a kernel).
    serve.add_argument("--exit-with-parent", action="store_true", help=argparse.SUPPRESS)
    serve.add_argument("--remove-data-dir", action="store_true", help=argparse.SUPPRESS)
    # String defaults go through `type` too, so the environment is checked like the flag.
    serve.add_argument("--retention-days", type=float, default=os.environ.get(RETENTION_DAYS_ENV),
                       help=f"delete finished exports' files after this many days (default: "
                            f"${RETENTION_DAYS_ENV}, else kept)")
    serve.add_argument("--retention-size", type=size, default=os.environ.get(RETENTION_SIZE_ENV),
                       help=f"keep finished exports' files under this total, e.g. 10G, oldest "
                            f"deleted first (default: ${RETENTION_SIZE_ENV}, else no limit)")
    serve.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR),
                       help=f"where exports and the default store live (default "
                            f"{DEFAULT_DATA_DIR}/)")
    serve.add_argument("--workers", type=int, default=1,
                       help="server processes on this host (default 1; more than one needs "
                            "a PostgreSQL --db)")
    serve.add_argument("--export-processes", type=int, default=None, metavar="N",
                       help="processes that build and serialize export rows (default: one "
                            "per CPU; 0 = in the server process)")
    serve.add_argument("--lease-seconds", type=float, default=LEASE_SECONDS,
                       help="PostgreSQL: how long the exports of a process that died wait "
                            f"before another process takes them over (default {LEASE_SECONDS:g})")
    seed = commands.add_parser("seed", help="load the demo workspace into a store")
    seed.add_argument("--demo", action="store_true", help="the demo workspace (required)")
    seed.add_argument("--db", metavar="URL", required=True,
                      help="SQLAlchemy URL of the store (sqlite:///path or "
                           "postgresql+psycopg://user:password@host/database)")
    seed.add_argument("--rows", type=int, default=0,
                      help="grow the large image project to N rows")
    return parser


def size(text: str) -> int:
    """A byte count like 500M or 10G (argparse names this function in its errors)."""
    return parse_size(text)


def _check(args: argparse.Namespace) -> str | None:
    if not 0 <= args.port <= 65535:
        return f"--port: must be between 0 and 65535, got {args.port}"
    if args.rows < 0:
        return f"--rows: must be >= 0, got {args.rows}"
    if args.rows and not args.demo:
        return "--rows: only applies with --demo"
    if args.api_key is not None and not args.api_key.strip():
        return "--api-key: must not be empty"
    if args.retention_days is not None and not args.retention_days > 0:
        return f"--retention-days: must be > 0, got {args.retention_days:g}"
    if args.workers < 1:
        return f"--workers: must be >= 1, got {args.workers}"
    if args.workers > 1 and not is_postgresql(args.db):
        return ("--workers: more than one process needs a PostgreSQL store "
                "(--db postgresql+psycopg://...); a SQLite store is served by one process")
    if args.export_processes is not None and args.export_processes < 0:
        return f"--export-processes: must be >= 0, got {args.export_processes}"
    if args.lease_seconds <= 0:
        return f"--lease-seconds: must be positive, got {args.lease_seconds:g}"
    return None


def is_postgresql(url: str | None) -> bool:
    return bool(url) and "://" in str(url) and \
        make_url(str(url)).get_backend_name() == "postgresql"


def shown(url: str) -> str:
    """A store URL as printed: without its password."""
    return make_url(url).render_as_string(hide_password=True) if "://" in url else url


def serve(args: argparse.Namespace) -> int:
    problem = _check(args)
    if problem:
        print(f"export-widget serve: {problem}", file=sys.stderr)
        return 2
    if args.workers > 1:
        return _serve_workers(args)
    parts = build_server(db_url=args.db, demo=args.demo, rows=args.rows, api_key=args.api_key,
                         data_dir=args.data_dir,
                         retention=Retention(args.retention_days, args.retention_size),
                         lease_seconds=args.lease_seconds,
                         export_processes=args.export_processes)
    config = uvicorn.Config(parts.app, host=args.host, port=args.port, log_level="warning",
                            lifespan="off")
    server = uvicorn.Server(config)
    original_startup = server.startup

    async def startup(sockets: object = None) -> None:
        await original_startup(sockets=sockets)  # type: ignore[arg-type]
        port = server.servers[0].sockets[0].getsockname()[1] if server.servers else args.port
        _announce(args, port, parts.api_key, parts.db_url)

    server.startup = startup  # type: ignore[method-assign]
    if args.exit_with_parent:
        _exit_with_parent(server)
    # uvicorn shuts down on SIGTERM and then raises the signal again under the handler it
    # found; the default one would end the process before `finally` cleans up.
    signal.signal(signal.SIGTERM, _exit_quietly)
    try:
        server.run()
    finally:
        parts.close()
        if args.remove_data_dir:
            shutil.rmtree(parts.data_dir, ignore_errors=True)
    return 0


def _announce(args: argparse.Namespace, port: int, api_key: str, db_url: str) -> None:
    print(f"endpoint: http://{args.host}:{port}/graphql", flush=True)
    print(f"api key:  {api_key}", flush=True)
    print(f"store:    {shown(db_url)}", flush=True)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: listening on {args.host}, not loopback: anyone who can reach "
              "this port and has the key can read every export", file=sys.stderr, flush=True)


def _serve_workers(args: argparse.Namespace) -> int:
    """`--workers N`: seed once here, then N worker processes share the socket."""
    from export_widget.server.team.workers import WorkerSettings, serve_workers

    if args.demo:
        seed_store(args.db, args.rows)
    settings = WorkerSettings(db_url=args.db, api_key=args.api_key or new_api_key(),
                              data_dir=str(Path(args.data_dir).resolve()),
                              lease_seconds=args.lease_seconds,
                              retention_days=args.retention_days,
                              retention_bytes=args.retention_size)
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    serve_workers(settings, host=args.host, port=args.port, workers=args.workers,
                  announce=lambda port: _announce(args, port, settings.api_key, args.db))
    return 0


def seed_store(url: str, rows: int) -> str:
    """Load the demo workspace into a store (idempotent); what was done, in one sentence."""
    from sqlalchemy import func, select

    from export_widget.server import store as tables
    from export_widget.server.demo.seed import seed_demo
    from export_widget.server.store import open_store

    engine = open_store(url)
    count = select(func.count()).select_from(tables.data_rows)
    try:
        with engine.connect() as conn:
            before = int(conn.execute(count).scalar_one())
        seed_demo(engine, rows=rows)
        with engine.connect() as conn:
            after = int(conn.execute(count).scalar_one())
    finally:
        engine.dispose()
    if after == before:
        return (f"the demo workspace is already in {shown(url)} ({after:,} data rows); "
                "nothing to add")
    verb = "seeded the demo workspace into" if before == 0 else "added to the demo workspace in"
    return f"{verb} {shown(url)}: {after - before:,} data rows added, {after:,} in all"


def seed(args: argparse.Namespace) -> int:
    problem = None
    if not args.demo:
        problem = "--demo: the demo workspace is the only one to seed; pass --demo"
    elif args.rows < 0:
        problem = f"--rows: must be >= 0, got {args.rows}"
    if problem:
        print(f"export-widget seed: {problem}", file=sys.stderr)
        return 2
    print(seed_store(args.db, args.rows), flush=True)
    return 0


def _exit_quietly(_signum: int, _frame: object) -> None:
    raise SystemExit(0)


def _exit_with_parent(server: uvicorn.Server) -> None:
    """Stop serving once the parent is gone (a killed kernel must not leave a server)."""
    parent = os.getppid()

    def watch() -> None:
        while not server.should_exit:
            if os.getppid() != parent:
                server.should_exit = True
                return
            time.sleep(1.0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    if args.command == "seed":
        return seed(args)
    return 2  # argparse already refused unknown commands


if __name__ == "__main__":
    sys.exit(main())
