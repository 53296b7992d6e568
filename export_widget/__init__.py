"""export-widget: export and inspect labeled data from a notebook.

`Client` and friends speak the Labelbox export protocol over httpx; `ExportWidget` is the
notebook face; `export_widget.server` is the local export server with a demo workspace.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .widget import ExportWidget

__all__ = ["ExportWidget", "__version__"]


def __getattr__(name: str) -> Any:
    # The widget pulls in ipywidgets; client-only users should not pay for it.
    if name == "ExportWidget":
        from .widget import ExportWidget

        return ExportWidget
    raise AttributeError(name)
