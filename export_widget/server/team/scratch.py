"""A scratch PostgreSQL cluster on this machine, from Debian's `postgresql` package: what the
tests and the benchmarks run the team server on, and a way to try it with no database
server at hand.

PostgreSQL refuses to run as root, so as root the cluster is created and run as the
`postgres` user (through `runuser`), in a directory of its own under the system temp dir
that is removed when the cluster stops.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa


def find_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Cluster:
    """A running cluster on 127.0.0.1:port, trust authentication for `postgres`."""

    port: int

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh empty database; its SQLAlchemy URL."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE template0')
        finally:
            admin.dispose()
        return self.url(name)


@contextmanager
def running_cluster(bindir: Path) -> Iterator[Cluster]:
    """initdb + pg_ctl start in a new temp dir; stop and remove it on exit. `bindir` holds
    initdb and pg_ctl (`find_bindir()`)."""
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    root = Path(tempfile.mkdtemp(prefix="export-widget-pg-"))
    try:
        if as_root:
            shutil.chown(root, user="postgres", group="postgres")
        data = root / "data"
        subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
                        "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
                       check=True, capture_output=True)
        port = _free_port()
        # A test cluster: no durability needed, small footprint, TCP on loopback only.
        options = (f"-c port={port} -c listen_addresses=127.0.0.1 "
                   f"-c unix_socket_directories={root} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off "
                   "-c max_connections=200 -c shared_buffers=64MB")
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-l",
                        str(root / "server.log"), "-o", options, "-w", "-t", "60", "start"],
                       check=True, capture_output=True)
        try:
            yield Cluster(port)
        finally:
            subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                            "-w", "stop"], capture_output=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)

