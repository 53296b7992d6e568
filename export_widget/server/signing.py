"""Signed, expiring chunk URLs.

The SDK downloads chunks with a bare GET (no Authorization header), so a chunk URL is a
capability: a token signed with the server's secret that names a task, a stream and an
inclusive byte range, and nothing else. The file path is derived from those by the
engine, so a token can never point anywhere but a task's own stream.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from export_widget.server.tasks import StreamName, is_task_id

DEFAULT_MAX_AGE = 3600
_SALT = "export-widget.chunk"


class InvalidToken(Exception):
    """The token is forged, damaged, expired or names something impossible."""


@dataclass(frozen=True)
class ChunkGrant:
    task_id: str
    stream: StreamName
    start: int
    end: int


def load_or_create_secret(data_dir: Path) -> bytes:
    """The signing secret kept in the data dir (0600), so URLs outlive a restart.

    Processes starting together on one data dir agree on one secret: it is written to a
    file of its own, then linked into place, which fails for all but the first."""
    path = Path(data_dir) / "signing.key"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    draft = path.with_name(f"signing.key.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(secrets.token_bytes(32))
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return path.read_bytes()


class ChunkSigner:
    def __init__(self, secret: bytes, max_age: int = DEFAULT_MAX_AGE) -> None:
        if max_age <= 0:
            raise ValueError(f"max_age: must be positive seconds, got {max_age}")
        self._serializer = URLSafeTimedSerializer(secret, salt=_SALT)
        self.max_age = max_age

    def sign(self, grant: ChunkGrant) -> str:
        payload = [grant.task_id, grant.stream.value, grant.start, grant.end]
        return str(self._serializer.dumps(payload))

    def verify(self, token: str) -> ChunkGrant:
        try:
            payload = self._serializer.loads(token, max_age=self.max_age)
        except SignatureExpired as exc:
            raise InvalidToken("this chunk URL has expired; ask for the chunk again") from exc
        except BadSignature as exc:
            raise InvalidToken("this chunk URL is not valid") from exc
        if not (isinstance(payload, list) and len(payload) == 4):
            raise InvalidToken("this chunk URL is not valid")
        task_id, stream, start, end = payload
        if (
            not isinstance(task_id, str)
            or not is_task_id(task_id)
            or stream not in StreamName.__members__
            or not isinstance(start, int)
            or not isinstance(end, int)
            or not 0 <= start <= end
        ):
            raise InvalidToken("this chunk URL is not valid")
        return ChunkGrant(task_id, StreamName(stream), start, end)
