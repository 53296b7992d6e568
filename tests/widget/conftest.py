"""Fixtures the widget tests share."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from export_widget.client import Client


@pytest.fixture(scope="module")
def client(server: Any) -> Iterator[Client]:
    with Client(api_key=server.api_key, endpoint=server.endpoint) as c:
        yield c
