"""Exceptions the client raises, named after the official SDK's so callers can port code."""

from __future__ import annotations


class LabelboxError(Exception):
    """Base of every error the server or the transport reports."""

    def __init__(self, message: str, cause: BaseException | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.cause = cause


class AuthenticationError(LabelboxError):
    """The API key is missing or the server rejected it."""


class AuthorizationError(LabelboxError):
    """The key is valid but may not do this."""


class ResourceNotFoundError(LabelboxError):
    """The object asked for does not exist (or is not visible to this key)."""


class InvalidQueryError(LabelboxError):
    """The server could not parse or validate the GraphQL operation or its variables."""


class MalformedQueryException(LabelboxError):
    """The server refused the export input (MALFORMED_REQUEST)."""


class OperationNotAllowedError(LabelboxError):
    """The server does not allow this operation here."""


class InternalServerError(LabelboxError):
    """A 5xx answer that persisted through every retry."""


class NetworkError(LabelboxError):
    """The server could not be reached (connection refused, reset, timeout) after retries."""


class ExportTaskException(Exception):
    """An `ExportTask` member used in the wrong task state (`ExportTask.ExportTaskException`)."""


class ExportTimeoutError(TimeoutError):
    """`wait_till_done` ran out of time while the task was still running."""

    def __init__(self, task_id: str, timeout_seconds: float, status: str) -> None:
        super().__init__(
            f"export task {task_id} still {status} after {timeout_seconds:g} s; "
            "call wait_till_done() again or re-attach later with ExportTask.get_task()"
        )
        self.task_id = task_id
        self.timeout_seconds = timeout_seconds
        self.status = status
