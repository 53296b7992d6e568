"""The export client: the Labelbox export API over httpx.

    client = Client(api_key=KEY, endpoint="http://127.0.0.1:PORT/graphql")
    task = client.get_project(PID).export(params={"label_details": True})
    task.wait_till_done()
    for row in task.get_stream():
        row.json
"""

from __future__ import annotations

from .api import ExportApi
from .client import Client
from .errors import (
    AuthenticationError,
    AuthorizationError,
    ExportTaskException,
    ExportTimeoutError,
    InternalServerError,
    InvalidQueryError,
    LabelboxError,
    NetworkError,
    ResourceNotFoundError,
)
from .scopes import Batch, Catalog, CatalogSlice, DataRow, Dataset, Model, ModelRun, Project
from .stream import (
    BufferedJsonConverterOutput,
    BufferedStream,
    FileConverter,
    FileConverterOutput,
    JsonConverter,
    JsonConverterOutput,
    Line,
    LineConverter,
    Stream,
    StreamType,
)
from .task import ExportTask
from .transport import RetryPolicy
from .validation import FILTERS_BY_SCOPE, PARAMS_BY_SCOPE, field_errors

__all__ = [
    "FILTERS_BY_SCOPE", "PARAMS_BY_SCOPE", "AuthenticationError", "AuthorizationError", "Batch",
    "BufferedJsonConverterOutput", "BufferedStream", "Catalog", "CatalogSlice", "Client",
    "DataRow", "Dataset", "ExportApi", "ExportTask", "ExportTaskException", "ExportTimeoutError",
    "FileConverter", "FileConverterOutput", "InternalServerError", "InvalidQueryError",
    "JsonConverter", "JsonConverterOutput", "LabelboxError", "Line", "LineConverter", "Model",
    "ModelRun",
    "NetworkError", "Project", "ResourceNotFoundError", "RetryPolicy", "Stream",
    "StreamType", "field_errors",
]
