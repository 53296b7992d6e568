"""The shapes the widget's traits and custom messages carry. `js/src/types.ts` mirrors them.

Who writes what:
- `config`     the browser (the form); Python only reads it.
- `status`     the export worker only, one whole dict per update.
- `catalog`    Python, when the widget is built (what can be exported, with names).
- `validation` Python, after each config change: field name -> message ("" keys never).
- `code`       Python, after each config change: the form as Python (`CodeTexts`).
- `selected`   Python: the 0-based result line the preview shows (None: no row). The browser
               asks for a change with a `select` message; `ExportWidget.select` sets it too.

Custom messages, browser -> kernel: `start`, `cancel`, `resume`, `page` (and one type per
panel, see `routes.py`); each has a request `id`, and the reply echoes it so the browser can
drop replies it no longer waits for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, NotRequired, TypedDict

from .client.validation import Scope

if TYPE_CHECKING:
    from .media import Preview

State = Literal["idle", "queued", "running", "streaming", "done", "failed", "cancelled"]
FINAL_STATES: frozenset[str] = frozenset({"done", "failed", "cancelled"})
StreamName = Literal["result", "errors"]

DateRange = list[str | None]  # [start, end]; either end may be None (open)


class Filters(TypedDict, total=False):
    last_activity_at: DateRange
    label_created_at: DateRange
    workflow_status: str
    batch_ids: list[str]
    global_keys: list[str]
    data_row_ids: list[str]


class ExportConfig(TypedDict, total=False):
    scope: Scope
    target_id: str
    task_name: str
    params: dict[str, bool | str | list[str] | None]
    filters: Filters


class Status(TypedDict):
    state: State
    task_id: str | None
    percent: float | None
    rows: int
    bytes: int
    total_rows: int | None
    rows_per_s: float
    elapsed_s: float
    eta_s: float | None
    errors: int
    message: str
    seq: int


class Named(TypedDict):
    id: str
    name: str


class ModelRunEntry(TypedDict):
    id: str
    name: str
    model_name: str


class ScopeRules(TypedDict):
    params: list[str]
    filters: list[str]
    target: str | None  # what the user picks to export, e.g. "model run"; None: nothing


class FormRules(TypedDict):
    """The client's rules the form applies as the user types; it hard-codes none of them."""

    workflow_statuses: list[str]
    bool_params: list[str]
    row_ids_max: int  # global keys or data row ids in one export
    param_ids_max: int  # ids in `project_ids` / `model_run_ids`


class Catalog(TypedDict):
    projects: list[Named]
    datasets: list[Named]
    slices: list[Named]
    model_runs: list[ModelRunEntry]
    batches: dict[str, list[Named]]
    scopes: dict[str, ScopeRules]
    rules: FormRules
    media_types: list[str]
    timezone: str
    error: NotRequired[str]


class StartRequest(TypedDict):
    type: Literal["start"]
    id: str
    config: NotRequired[ExportConfig]


class PageRequest(TypedDict):
    type: Literal["page"]
    id: str
    stream: StreamName
    line: int
    n: int


class PageReply(TypedDict):
    type: Literal["page"]
    id: str
    stream: StreamName
    line: int
    total: int
    lines: list[str]  # raw JSON text, one row each; the browser parses


class ActionReply(TypedDict):
    type: Literal["ack"]
    id: str
    action: Literal["start", "resume", "cancel"]
    ok: bool
    message: str


class SelectRequest(TypedDict):
    type: Literal["select"]
    id: str
    line: int


class SelectReply(TypedDict):
    type: Literal["select"]
    id: str
    line: int | None
    ok: bool
    message: str


class PreviewRequest(TypedDict):
    type: Literal["preview"]
    id: str
    line: int


class PreviewReply(TypedDict):
    """Sent with the media's bytes as the message's buffers (see `media.MediaPart.index`)."""

    type: Literal["preview"]
    id: str
    line: int
    preview: Preview | None  # None when the line has no row; `message` says why
    message: str


class ErrorReply(TypedDict):
    type: Literal["error"]
    id: str
    message: str


class CodeTexts(TypedDict):
    """The form as Python: this project's client, and the official labelbox SDK."""

    client: str
    sdk: str


class CodeRequest(TypedDict):
    """The Code panel's pasted or edited source, to be read into the form."""

    type: Literal["code"]
    id: str
    source: str


class CodeReply(TypedDict):
    type: Literal["code"]
    id: str
    ok: bool
    config: ExportConfig | None  # None when no export call could be read (see message)
    notes: list[str]  # parts of the call the form cannot hold, each naming the part
    code: CodeTexts  # the config as code, as the `code` trait will show it
    message: str


PAGE_LINES_MAX = 500  # lines in one page reply


# -- find, tabulate, save (the inspection panels) ------------------------------------------

SearchKind = Literal["text", "sql"]
SearchState = Literal["idle", "running", "waiting", "done", "failed", "cancelled"]


class SearchStatus(TypedDict):
    """The `search` trait, written only by the search worker (`finder.py`).

    `waiting`: every committed line is scanned and the export is still streaming.
    """

    id: str
    kind: SearchKind | Literal[""]
    query: str
    state: SearchState
    scanned: int
    total: int
    matches: int
    message: str
    seq: int


def idle_search() -> SearchStatus:
    return SearchStatus(id="", kind="", query="", state="idle", scanned=0, total=0, matches=0,
                        message="", seq=0)


def idle_status(message: str = "") -> Status:
    return Status(
        state="idle",
        task_id=None,
        percent=None,
        rows=0,
        bytes=0,
        total_rows=None,
        rows_per_s=0.0,
        elapsed_s=0.0,
        eta_s=None,
        errors=0,
        message=message,
        seq=0,
    )


# -- History and Compare panels (history_routes.py) -----------------------------------------


class HistoryAck(TypedDict):
    type: Literal["ack"]
    id: str
    action: Literal["history_open", "history_delete", "history_resume", "attach"]
    ok: bool
    message: str


class HistoryListReply(TypedDict):
    type: Literal["history_list"]
    id: str
    entries: list[Any]  # history.EntrySummary, newest first
    current: str | None  # the entry the viewer shows
    disk_bytes: int
    directory: str
    max_entries: int | None
    max_bytes: int | None


class CompareSummary(TypedDict):
    key: str  # "id" or "global_key": how rows were matched
    rows_a: int
    rows_b: int
    changed_rows: int
    unchanged_rows: int
    only_in_a: int
    only_in_b: int
    counts: dict[str, int]  # kind of change -> how many


class CompareReply(TypedDict):
    type: Literal["compare"]
    id: str
    a: str
    b: str
    a_label: str
    b_label: str
    summary: CompareSummary


class CompareRow(TypedDict):
    key: str
    data_row_id: str | None
    global_key: str | None
    status: str  # "changed" | "only_in_a" | "only_in_b"
    kinds: str  # kinds of change, comma separated
    changes: int
    line_a: int | None
    line_b: int | None


class ComparePageReply(TypedDict):
    type: Literal["compare_page"]
    id: str
    line: int
    total: int
    rows: list[CompareRow]


class Change(TypedDict):
    kind: str
    where: str | None
    label_id: str | None
    feature: str | None
    feature_id: str | None
    before: str | None
    after: str | None


class CompareRowReply(TypedDict):
    type: Literal["compare_row"]
    id: str
    key: str
    changes: list[Change]
    row_a: str | None  # raw JSON text of the row in A
    row_b: str | None


class FeatureMetrics(TypedDict):
    model_run: str
    feature: str
    ground_truth: int
    predictions: int
    tp: int
    fp: int
    fn: int
    precision: float | None
    recall: float | None


class Confusion(TypedDict):
    truth: list[str]
    predicted: list[str]
    counts: list[list[int]]


class MetricsReply(TypedDict):
    type: Literal["metrics"]
    id: str
    entry: str
    iou: float
    features: list[FeatureMetrics]
    confusion: Confusion
    skipped: int

TableState = Literal["building", "ready", "failed"]


class TableColumn(TypedDict):
    name: str
    type: str  # "text" | "number" | "time": which filter a column takes


class TablePage(TypedDict):
    """One page of the Table tab, sorted and filtered in the kernel (`table_view.py`)."""

    type: Literal["table_page"]
    id: str
    grain: str
    state: TableState
    building: bool  # a (re)build is running; `done` of `of` lines read
    message: str
    done: int  # lines read so far while building
    of: int  # lines to read
    columns: list[TableColumn]
    rows: list[list[str | float | int | bool | None]]
    offset: int
    matched: int  # records that pass the filters
    total: int  # records in the built table
    lines: int  # spool lines the table was built from
    spool_lines: int  # spool lines now
    sort: str
    descending: bool


class SavePiece(TypedDict):
    """One piece of a download; its bytes travel as the message's one buffer."""

    type: Literal["save_piece"]
    save_id: str
    request_id: str  # the `save` request's id: known to the browser before any reply
    index: int
    pieces: int
    size: int
    name: str
    mime: str


class SaveFailed(TypedDict):
    type: Literal["save_failed"]
    save_id: str
    request_id: str
    message: str


class FindReply(TypedDict):
    type: Literal["find"]
    id: str
    ok: bool
    message: str  # why the query was refused, under the search box
    search_id: str


class MatchPage(TypedDict):
    """A page of the rows a search matched, each with its line number (0-based)."""

    type: Literal["match_page"]
    id: str
    search_id: str
    index: int  # position of the first match on this page among all matches
    matches: int  # matches so far
    total: int  # lines in the spool
    numbers: list[int]
    lines: list[str]


class SaveReply(TypedDict):
    type: Literal["save"]
    id: str
    ok: bool
    message: str
    save_id: str
    name: str
