"""The workspace model in SQL (SQLAlchemy Core).

Every table of the workspace lives here; export tasks do not (the API side keeps them).
Times are stored as integer milliseconds since the epoch (UTC) so date filters are plain
integer comparisons on any backend. JSON payloads (annotations, media attributes, saved
filters) are stored as text produced by orjson, parsed only when a row is built.
Data rows carry an integer surrogate key `pk` used for joins and for the stable export
order; their public 25-character id is `id`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
)

metadata = MetaData()

ID = String(32)

organization = Table(
    "organization",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", ID, primary_key=True),
    Column("email", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("nickname", Text, nullable=True),
    Column("timezone", Text, nullable=True),
    Column("is_owner", Boolean, nullable=False, default=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_hash", String(64), primary_key=True),
    Column("user_id", ID, ForeignKey("users.id"), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

datasets = Table(
    "datasets",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=True),
    Column("created_by", ID, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

data_rows = Table(
    "data_rows",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("id", ID, nullable=False, unique=True),
    Column("dataset_id", ID, ForeignKey("datasets.id"), nullable=False),
    Column("global_key", Text, nullable=True, unique=True),
    Column("external_id", Text, nullable=True),
    Column("row_data", Text, nullable=False),
    Column("media_type", String(32), nullable=False),
    Column("media_attributes", Text, nullable=False),
    Column("created_by", ID, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("last_activity_at", BigInteger, nullable=False),
    Index("ix_data_rows_dataset", "dataset_id", "pk"),
    Index("ix_data_rows_activity", "last_activity_at"),
)

attachments = Table(
    "attachments",
    metadata,
    Column("id", ID, primary_key=True),
    Column("data_row_pk", Integer, nullable=False),
    Column("type", String(32), nullable=False),
    Column("value", Text, nullable=False),
    Column("name", Text, nullable=True),
    Index("ix_attachments_row", "data_row_pk"),
)

metadata_schemas = Table(
    "metadata_schemas",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", Text, nullable=False),
    # string | number | datetime | enum | option (an enum's option; parent_id names the enum)
    Column("kind", String(16), nullable=False),
    Column("parent_id", ID, nullable=True),
    Column("reserved", Boolean, nullable=False, default=False),
)

metadata_fields = Table(
    "metadata_fields",
    metadata,
    Column("data_row_pk", Integer, nullable=False),
    Column("schema_id", ID, nullable=False),
    # orjson text: a string, a number, an ISO datetime string, or an option schema id
    Column("value", Text, nullable=False),
    Index("ix_metadata_fields_row", "data_row_pk"),
    Index("ix_metadata_fields_schema", "schema_id"),
)

embeddings = Table(
    "embeddings",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", Text, nullable=False),
    Column("dimensions", Integer, nullable=False),
    Column("is_custom", Boolean, nullable=False),
)

# Vectors are not stored: they are derived from (embedding id, data row id) on read.
data_row_embeddings = Table(
    "data_row_embeddings",
    metadata,
    Column("data_row_pk", Integer, primary_key=True),
    Column("embedding_id", ID, primary_key=True),
)

ontologies = Table(
    "ontologies",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", Text, nullable=False),
    Column("media_type", String(32), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

feature_schemas = Table(
    "feature_schemas",
    metadata,
    Column("id", ID, primary_key=True),
    Column("ontology_id", ID, ForeignKey("ontologies.id"), nullable=False),
    Column("name", Text, nullable=False),
    # tool kind (bbox, polygon, ...) or classification kind (radio, checklist, text) or option
    Column("kind", String(32), nullable=False),
    Column("parent_id", ID, nullable=True),
)

projects = Table(
    "projects",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("media_type", String(32), nullable=False),
    Column("ontology_id", ID, ForeignKey("ontologies.id"), nullable=False),
    Column("created_by", ID, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

# A project's resource tags (Labelbox's ResourceTag: text and colour), written to every row of a
# project export as `project_tags`.
project_tags = Table(
    "project_tags",
    metadata,
    Column("project_id", ID, primary_key=True),
    Column("tag_id", ID, primary_key=True),
    Column("text", Text, nullable=False),
    Column("color", String(16), nullable=False),
)

# The workflow task queues of a project (fixed set of four per project).
task_queues = Table(
    "task_queues",
    metadata,
    Column("id", ID, primary_key=True),
    Column("project_id", ID, nullable=False),
    Column("name", Text, nullable=False),
    Column("status", String(16), nullable=False),
)

batches = Table(
    "batches",
    metadata,
    Column("id", ID, primary_key=True),
    Column("project_id", ID, ForeignKey("projects.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("size", Integer, nullable=False, default=0),
    Column("created_by", ID, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_batches_project", "project_id", "created_at"),
)

project_rows = Table(
    "project_rows",
    metadata,
    Column("project_id", ID, primary_key=True),
    Column("data_row_pk", Integer, primary_key=True),
    Column("batch_id", ID, nullable=False),
    Column("workflow_status", String(16), nullable=False),
    Column("task_id", ID, nullable=True),
    Column("task_name", Text, nullable=True),
    Column("priority", Integer, nullable=False),
    Column("consensus_expected_label_count", Integer, nullable=False),
    Column("selected_label_id", ID, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_project_rows_row", "data_row_pk"),
    Index("ix_project_rows_batch", "batch_id", "data_row_pk"),
    Index("ix_project_rows_status", "project_id", "workflow_status", "data_row_pk"),
)

workflow_history = Table(
    "workflow_history",
    metadata,
    Column("project_id", ID, primary_key=True),
    Column("data_row_pk", Integer, primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("action", String(32), nullable=False),
    Column("created_by", ID, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("previous_task_id", ID, nullable=True),
    Column("previous_task_name", Text, nullable=True),
    Column("next_task_id", ID, nullable=True),
    Column("next_task_name", Text, nullable=True),
)

labels = Table(
    "labels",
    metadata,
    Column("id", ID, primary_key=True),
    Column("project_id", ID, nullable=False),
    Column("data_row_pk", Integer, nullable=False),
    Column("label_kind", String(32), nullable=False),
    Column("annotations", Text, nullable=False),
    Column("created_by", ID, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("seconds_to_create", Integer, nullable=False, default=0),
    Column("seconds_to_review", Integer, nullable=False, default=0),
    Column("seconds_to_rework", Integer, nullable=False, default=0),
    Column("skipped", Boolean, nullable=False, default=False),
    # created_at makes the labeled_at filter an index-only probe per row.
    Index("ix_labels_row", "data_row_pk", "project_id", "created_at"),
    Index("ix_labels_created", "created_at"),
)

reviews = Table(
    "reviews",
    metadata,
    Column("id", ID, primary_key=True),
    Column("label_id", ID, nullable=False),
    Column("action", String(16), nullable=False),
    Column("created_by", ID, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_reviews_label", "label_id"),
)

models = Table(
    "models",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", Text, nullable=False),
    Column("ontology_id", ID, nullable=False),
    Column("created_by", ID, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

model_runs = Table(
    "model_runs",
    metadata,
    Column("id", ID, primary_key=True),
    Column("model_id", ID, ForeignKey("models.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("training_metadata", Text, nullable=True),
    Column("created_by", ID, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

model_run_rows = Table(
    "model_run_rows",
    metadata,
    Column("model_run_id", ID, primary_key=True),
    Column("data_row_pk", Integer, primary_key=True),
    Column("run_data_row_id", ID, nullable=False),
    Column("split", String(16), nullable=True),
    Index("ix_model_run_rows_row", "data_row_pk"),
)

# Ground-truth labels of a model run point at project labels.
model_run_labels = Table(
    "model_run_labels",
    metadata,
    Column("model_run_id", ID, primary_key=True),
    Column("label_id", ID, primary_key=True),
    Column("data_row_pk", Integer, nullable=False),
    Index("ix_model_run_labels_row", "data_row_pk"),
)

predictions = Table(
    "predictions",
    metadata,
    Column("id", ID, primary_key=True),
    Column("model_run_id", ID, nullable=False),
    Column("data_row_pk", Integer, nullable=False),
    Column("label_kind", String(32), nullable=False),
    Column("annotations", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_predictions_row", "data_row_pk", "model_run_id"),
)

slices = Table(
    "slices",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False, default=""),
    # orjson text: a list of search-query items (same grammar as export filters)
    Column("filter", Text, nullable=False),
    Column("created_by", ID, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=OFF")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA cache_size=-65536")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


def open_store(url: str) -> Engine:
    """Open (and create if missing) the workspace store at a SQLAlchemy URL.

    A bare filesystem path is accepted as a SQLite file. SQLite gets WAL journaling so
    the export workers can read while a writer works.
    """
    engine = connect_store(url)
    metadata.create_all(engine)
    return engine


def connect_store(url: str) -> Engine:
    """An engine on an existing store, configured as `open_store` does, creating nothing
    (for processes that only read a store another process opened)."""
    if "://" not in url:
        url = f"sqlite:///{url}"
    is_sqlite = url.startswith("sqlite")
    kwargs: dict[str, Any] = {}
    if is_sqlite:
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    engine = create_engine(url, **kwargs)
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine
