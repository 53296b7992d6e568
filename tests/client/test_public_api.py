"""The client's public names stay importable, the way notebooks import them."""

from __future__ import annotations

import export_widget.client as client_package


def test_star_import_provides_every_name_in_all() -> None:
    namespace: dict[str, object] = {}
    exec("from export_widget.client import *", namespace)
    missing = [name for name in client_package.__all__ if name not in namespace]
    assert missing == []
    assert len(set(client_package.__all__)) == len(client_package.__all__)


def test_all_keeps_the_names_the_sdk_ports_rely_on() -> None:
    assert {"Client", "ExportTask", "Project", "Dataset", "Catalog", "CatalogSlice",
            "ModelRun", "DataRow", "StreamType", "JsonConverter", "FileConverter", "Stream",
            "BufferedStream", "RetryPolicy", "LabelboxError"} <= set(client_package.__all__)
