"""`export-widget serve`: run the local export server from the command line."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import threading
import time
from collections.abc import Sequence

import uvicorn

from export_widget.server.process import API_KEY_ENV
from export_widget.server.retention import (
    RETENTION_DAYS_ENV,
    RETENTION_SIZE_ENV,
    Retention,
    parse_size,
)
from export_widget.server.runner import DEFAULT_DATA_DIR, build_server


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
    return None


def serve(args: argparse.Namespace) -> int:
    problem = _check(args)
    if problem:
        print(f"export-widget serve: {problem}", file=sys.stderr)
        return 2
    parts = build_server(db_url=args.db, demo=args.demo, rows=args.rows, api_key=args.api_key,
                         data_dir=args.data_dir,
                         retention=Retention(args.retention_days, args.retention_size))
    config = uvicorn.Config(parts.app, host=args.host, port=args.port, log_level="warning",
                            lifespan="off")
    server = uvicorn.Server(config)
    original_startup = server.startup

    async def startup(sockets: object = None) -> None:
        await original_startup(sockets=sockets)  # type: ignore[arg-type]
        port = server.servers[0].sockets[0].getsockname()[1] if server.servers else args.port
        print(f"endpoint: http://{args.host}:{port}/graphql", flush=True)
        print(f"api key:  {parts.api_key}", flush=True)
        print(f"store:    {parts.db_url}", flush=True)
        if args.host not in ("127.0.0.1", "localhost", "::1"):
            print(f"warning: listening on {args.host}, not loopback: anyone who can reach "
                  "this port and has the key can read every export", file=sys.stderr,
                  flush=True)

    server.startup = startup  # type: ignore[method-assign]
    if args.exit_with_parent:
        _exit_with_parent(server)
    try:
        server.run()
    finally:
        parts.engine.close()
        parts.store.dispose()
        if args.remove_data_dir:
            shutil.rmtree(parts.data_dir, ignore_errors=True)
    return 0


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
    return 2  # argparse already refused unknown commands


if __name__ == "__main__":
    sys.exit(main())
