"""The throwaway PostgreSQL cluster of the team-server tests (see server/team/scratch.py):
fail in CI, skip locally, when Debian's binaries are missing."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from export_widget.server.team.scratch import Cluster, find_bindir, running_cluster

__all__ = ["BACKENDS", "Cluster", "need_postgres", "running_cluster", "server_on"]


def need_postgres() -> Path:
    """The directory of initdb/pg_ctl; fail when CI=true, skip otherwise, if missing."""
    bindir = find_bindir()
    if bindir is None:
        message = "PostgreSQL not found under /usr/lib/postgresql: run scripts/setup.sh"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return bindir


BACKENDS = ["sqlite", "postgresql"]


def server_on(request: pytest.FixtureRequest) -> Any:
    """The session server (`sqlite_server` or `pg_server`) a parametrised fixture asks for."""
    return request.getfixturevalue(f"{request.param if request.param == 'sqlite' else 'pg'}"
                                   "_server")
