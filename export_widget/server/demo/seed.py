"""A deterministic demo workspace: every media type, valid annotations, workflow states.

`seed_demo(engine)` fills an empty store; a second call is a no-op. `rows=N` makes sure the
"Large Image Project" holds N extra image rows (bulk inserts in big transactions).

Known date range (tests rely on it): labels are created between 2024-01-01 and 2024-06-30 UTC,
data rows were created in December 2023, and `last_activity_at` is the latest of a row's
label/review/workflow events (or the day its batch was created, for rows still to label).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, Table, bindparam, func, insert, select

from export_widget.jsontypes import Json
from export_widget.server import store
from export_widget.server.demo import media, scenes
from export_widget.server.demo.ids import cuid
from export_widget.server.demo.samples import (
    LABEL_KIND,
    PREDICTION_NOISE,
    annotations_for,
    schema_rows,
)

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
ROWS_CREATED_MS = 1_701_388_800_000  # 2023-12-01T00:00:00Z
LABELS_START_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
LABELS_DAYS = 181  # through 2024-06-30

OWNER_EMAIL = "owner@example.com"
OWNER_TIMEZONE = "America/New_York"

CLIP_EMBEDDING_ID = "c200000000000000000000000"
CLIP_EMBEDDING_NAME = "Image Embedding V2 (CLIP ViT-B/32)"
CUSTOM_EMBEDDING_NAME = "Street Features (custom)"
CUSTOM_EMBEDDING_DIMS = 16

LARGE_DATASET = "Large Image Dataset"
LARGE_PROJECT = "Large Image Project"
LARGE_BATCH_SIZE = 10_000

STATES = ("TO_LABEL", "IN_REVIEW", "IN_REWORK", "DONE")
QUEUES = (  # (status, queue name)
    ("TO_LABEL", "Initial labeling task"),
    ("IN_REVIEW", "Initial review task"),
    ("IN_REWORK", "Rework"),
    ("DONE", "Done"),
)


@dataclass(frozen=True)
class MediaSpec:
    media_type: str
    dataset: str
    project: str
    prefix: str
    folder: str
    ext: str
    count: int


TAG_COLORS = {"demo": "#1565c0", "qa": "#c62828", "image": "#2e7d32", "video": "#6a1b9a"}

MEDIA = (
    MediaSpec("IMAGE", "Street Scenes", "Street Scenes Annotation", "street", "images", "png", 24),
    MediaSpec("VIDEO", "Traffic Clips", "Traffic Video Tracking", "clip", "videos", "webm", 8),
    MediaSpec("TEXT", "News Articles", "News NER", "article", "text", "txt", 16),
    MediaSpec("TMS_GEO", "Satellite Tiles", "Land Use Mapping", "tile", "tiles", "png", 8),
    MediaSpec("PDF", "Invoices", "Invoice Extraction", "invoice", "documents", "pdf", 8),
    MediaSpec("AUDIO", "Call Recordings", "Call Audio Review", "call", "audio", "wav", 8),
    MediaSpec("CONVERSATIONAL", "Support Chats", "Support Chat Intents", "chat",
              "conversations", "json", 12),
    MediaSpec("HTML", "Product Pages", "Product Page Review", "page", "html", "html", 8),
)

USERS = (  # (key, email, name, timezone)
    ("owner", OWNER_EMAIL, "Olivia Owner", OWNER_TIMEZONE),
    ("labeler", "labeler@example.com", "Léa Labeler", "Europe/Paris"),
    ("reviewer", "reviewer@example.com", "Kenji Reviewer", "Asia/Tokyo"),
    ("rework", "ravi@example.com", "Ravi Rework", "Asia/Kolkata"),
)


def media_attributes(spec: MediaSpec, name: str) -> Json:
    """The media_attributes of a demo file (honest about what /media serves)."""
    mt = spec.media_type
    if mt == "IMAGE":
        width, height = scenes.IMAGE_SIZE
        return {"height": height, "width": width, "mime_type": "image/png", "asset_type": "image"}
    if mt == "VIDEO":
        width, height = scenes.CLIP_SIZE
        return {"mime_type": "video/webm", "frame_rate": scenes.CLIP_FPS,
                "frame_count": scenes.CLIP_FRAMES, "height": height, "width": width,
                "asset_type": "video"}
    if mt == "TEXT":
        return {"mime_type": "text/plain", "asset_type": "text",
                "content_length": len(media.text_document(name).encode())}
    if mt == "TMS_GEO":
        return {"mime_type": "image/png", "asset_type": "tms_geo", "epsg": "EPSG4326",
                "min_zoom": 12, "max_zoom": 20, "bounds": scenes.geo_bounds(name)}
    if mt == "PDF":
        return {"mime_type": "application/pdf", "asset_type": "pdf",
                "page_count": len(media.document_pages(name))}
    if mt == "AUDIO":
        return {"mime_type": "audio/wav", "asset_type": "audio", "duration_ms": 1000,
                "sample_rate": 8000}
    if mt == "CONVERSATIONAL":
        conv = media.conversation(name)
        ids = [m["messageId"] for m in conv["messages"]]
        return {"asset_type": "conversational",
                "mime_type": "application/vnd.labelbox.conversational",
                "labelable_ids": ids, "message_count": len(ids)}
    return {"mime_type": "text/html", "asset_type": "html"}


@dataclass
class _Tables:
    """Rows collected per table, inserted in one transaction."""

    rows: dict[str, list[Json]] = field(default_factory=dict)

    def add(self, table: Table, **values: Any) -> None:
        self.rows.setdefault(table.name, []).append(values)

    def flush(self, conn: Connection) -> None:
        for name, rows in self.rows.items():
            if rows:
                bulk_insert(conn, store.metadata.tables[name], rows)
        self.rows.clear()


def bulk_insert(conn: Connection, table: Table, rows: list[Json]) -> None:
    """executemany straight to the driver with the dialect's own SQL and paramstyle.

    SQLAlchemy's per-row parameter processing costs more than SQLite's insert itself at a
    million rows; all rows of one call must have the same keys.
    """
    keys = list(rows[0])
    compiled = insert(table).values({k: bindparam(k) for k in keys}).compile(
        dialect=conn.dialect)
    if compiled.positional:
        order = compiled.positiontup or []
        params: Any = [tuple(r[k] for k in order) for r in rows]
    else:
        params = rows
    conn.exec_driver_sql(str(compiled), params)


class _Demo:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.inserts = _Tables()
        self.users = {key: cuid(seed, "user", key) for key, *_ in USERS}
        self.owner = self.users["owner"]
        self.org = cuid(seed, "organization", 0)
        self.rng = random.Random(seed)

    def id(self, kind: str, n: int | str) -> str:
        return cuid(self.seed, kind, n)

    # --- workspace basics -----------------------------------------------------------

    def basics(self) -> None:
        t0 = ROWS_CREATED_MS - 30 * DAY_MS
        self.inserts.add(store.organization, id=self.org, name="Demo Organization",
                         created_at=t0, updated_at=t0)
        for key, email, name, tz in USERS:
            self.inserts.add(store.users, id=self.users[key], email=email, name=name,
                             nickname=name.split()[0].lower(), timezone=tz, is_owner=key == "owner",
                             created_at=t0, updated_at=t0)
        self.inserts.add(store.embeddings, id=CLIP_EMBEDDING_ID, name=CLIP_EMBEDDING_NAME,
                         dimensions=512, is_custom=False)
        self.custom_embedding = self.id("embedding", "custom")
        self.inserts.add(store.embeddings, id=self.custom_embedding, name=CUSTOM_EMBEDDING_NAME,
                         dimensions=CUSTOM_EMBEDDING_DIMS, is_custom=True)
        self.meta = {n: self.id("metadata", n) for n in ("tag", "captureDateTime",
                                                          "confidence", "weather")}
        self.inserts.add(store.metadata_schemas, id=self.meta["tag"], name="tag", kind="string",
                         parent_id=None, reserved=True)
        self.inserts.add(store.metadata_schemas, id=self.meta["captureDateTime"],
                         name="captureDateTime", kind="datetime", parent_id=None, reserved=True)
        self.inserts.add(store.metadata_schemas, id=self.meta["confidence"], name="confidence",
                         kind="number", parent_id=None, reserved=False)
        self.inserts.add(store.metadata_schemas, id=self.meta["weather"], name="weather",
                         kind="enum", parent_id=None, reserved=False)
        self.weather_options = {}
        for opt in ("sunny", "cloudy", "rainy"):
            oid = self.id("metadata", f"weather/{opt}")
            self.weather_options[opt] = oid
            self.inserts.add(store.metadata_schemas, id=oid, name=opt, kind="option",
                             parent_id=self.meta["weather"], reserved=False)
        self.ontologies = {}
        for spec in MEDIA:
            oid = self.id("ontology", spec.media_type)
            self.ontologies[spec.media_type] = oid
            self.inserts.add(store.ontologies, id=oid, name=f"{spec.project} Ontology",
                             media_type=spec.media_type, created_at=t0, updated_at=t0)
            for row in schema_rows(self.seed, spec.media_type, oid):
                self.inserts.add(store.feature_schemas, **row)

    # --- datasets and rows --------------------------------------------------------------

    def dataset(self, spec: MediaSpec, start_pk: int) -> list[tuple[int, str, str]]:
        """Insert a dataset's rows; returns (pk, id, file name) per row."""
        ds = self.id("dataset", spec.media_type)
        created = ROWS_CREATED_MS - DAY_MS + MEDIA.index(spec) * HOUR_MS
        self.inserts.add(store.datasets, id=ds, name=spec.dataset,
                         description=f"Demo {spec.media_type.lower()} data", created_by=self.owner,
                         created_at=created, updated_at=created)
        out = []
        for i in range(1, spec.count + 1):
            pk = start_pk + i - 1
            name = f"{spec.prefix}-{i:04d}.{spec.ext}"
            rid = self.id("data_row", f"{spec.media_type}|{i}")
            at = ROWS_CREATED_MS + (pk * 7) * HOUR_MS // 10
            self.inserts.add(store.data_rows, pk=pk, id=rid, dataset_id=ds, global_key=name,
                             external_id=name if i % 5 else None,
                             row_data=f"/media/{spec.folder}/{name}", media_type=spec.media_type,
                             media_attributes=orjson.dumps(media_attributes(spec, name)).decode(),
                             created_by=self.owner, created_at=at, updated_at=at,
                             last_activity_at=at)
            self.row_details(spec, pk, i, name)
            out.append((pk, rid, name))
        return out

    def row_details(self, spec: MediaSpec, pk: int, i: int, name: str) -> None:
        stem = name.rsplit(".", 1)[0]
        mt = spec.media_type

        def att(kind: str, value: str, label: str) -> None:
            self.inserts.add(store.attachments, id=self.id("attachment", f"{pk}|{kind}"),
                             data_row_pk=pk, type=kind, value=value, name=label)

        if mt == "IMAGE":
            att("IMAGE_OVERLAY", f"/media/overlays/{stem}.svg", "detections")
            att("TEXT", f"Camera {i % 6 + 1}, northbound — caméra", "camera")
            self.meta_field(pk, "tag", "busy" if i % 3 == 0 else "quiet")
            self.meta_field(pk, "captureDateTime",
                            f"2023-11-{i % 28 + 1:02d}T{i % 24:02d}:15:00.000Z")
            self.meta_field(pk, "weather", self.weather_options[("sunny", "cloudy",
                                                                 "rainy")[i % 3]])
            self.inserts.add(store.data_row_embeddings, data_row_pk=pk,
                             embedding_id=self.custom_embedding)
        elif mt == "TEXT":
            att("RAW_TEXT", f"Source: wire service, item {i} — 通信社", "source")
            self.meta_field(pk, "tag", "news")
            self.meta_field(pk, "confidence", round(0.5 + (i % 10) / 20, 2))
        elif mt == "HTML":
            att("HTML", f"<p>Reviewer note for <b>{stem}</b></p>", "note")
        elif mt == "PDF":
            att("TEXT_URL", f"/media/text/{stem}.txt", "ocr")
        elif mt == "VIDEO":
            att("IMAGE", f"/media/images/{stem}-thumb.png", "thumbnail")
        elif mt == "CONVERSATIONAL":
            self.meta_field(pk, "tag", "support")

    def meta_field(self, pk: int, name: str, value: Any) -> None:
        self.inserts.add(store.metadata_fields, data_row_pk=pk, schema_id=self.meta[name],
                         value=orjson.dumps(value).decode())

    # --- projects ---------------------------------------------------------------------------

    def project(self, spec: MediaSpec, rows: list[tuple[int, str, str]], name: str,
                key: str) -> tuple[str, dict[int, str]]:
        """A project over `rows` with two batches and every workflow state.

        Returns the project id and the first label id per labeled row pk.
        """
        pid = self.id("project", key)
        self.tags(pid, ["demo", spec.media_type.lower()] + (["qa"] if key.endswith("-qa") else []))
        # Projects (and datasets) are created an hour apart so listings keep the demo order.
        created = LABELS_START_MS - 10 * DAY_MS + len(self.project_ids) * HOUR_MS
        self.project_ids.append(pid)
        self.inserts.add(store.projects, id=pid, name=name,
                         description=f"Demo {spec.media_type.lower()} project",
                         media_type=spec.media_type, ontology_id=self.ontologies[spec.media_type],
                         created_by=self.owner, created_at=created, updated_at=created)
        queues = {}
        for status, qname in QUEUES:
            qid = self.id("task_queue", f"{key}|{status}")
            queues[status] = (qid, qname)
            self.inserts.add(store.task_queues, id=qid, project_id=pid, name=qname, status=status)
        half = (len(rows) + 1) // 2
        batches = []
        for b in range(2):
            bid = self.id("batch", f"{key}|{b}")
            bat = LABELS_START_MS + (b * 20 - 5) * DAY_MS
            size = half if b == 0 else len(rows) - half
            self.inserts.add(store.batches, id=bid, project_id=pid, name=f"{key}-batch-{b + 1}",
                             size=size, created_by=self.owner, created_at=bat, updated_at=bat)
            batches.append((bid, bat))
        rng = random.Random(f"{self.seed}|{key}")
        first_labels: dict[int, str] = {}
        for k, (pk, _rid, fname) in enumerate(rows):
            bid, bat = batches[0 if k < half else 1]
            status = STATES[k % 4]
            consensus = 2 if status == "DONE" and k % 8 == 7 else 1
            labels = []
            last = bat
            if status != "TO_LABEL":
                for c in range(consensus):
                    lid = self.id("label", f"{key}|{pk}|{c}")
                    created = LABELS_START_MS + rng.randrange(LABELS_DAYS * DAY_MS)
                    updated = created + rng.randrange(1, 4 * HOUR_MS)
                    defect = scenes.QA_DEFECTS.get((key, fname)) if c == 0 else None
                    ann = annotations_for(self.seed, spec.media_type, lid, fname, rng,
                                          defect=defect)
                    labeler = "labeler" if c == 0 else "rework"
                    self.inserts.add(store.labels, id=lid, project_id=pid, data_row_pk=pk,
                                     label_kind=LABEL_KIND.get(spec.media_type, "Default"),
                                     annotations=orjson.dumps(ann).decode(),
                                     created_by=self.users[labeler], created_at=created,
                                     updated_at=updated,
                                     seconds_to_create=rng.randint(10, 400),
                                     seconds_to_review=0 if status == "IN_REVIEW" else
                                     rng.randint(5, 120),
                                     seconds_to_rework=rng.randint(5, 200) if status == "IN_REWORK"
                                     else 0,
                                     skipped=False)
                    labels.append((lid, created, updated))
                    last = max(last, updated)
                first_labels[pk] = labels[0][0]
            last = self.history(pid, key, pk, status, queues, labels, rng, last)
            qid, qname = queues[status]
            self.inserts.add(store.project_rows, project_id=pid, data_row_pk=pk, batch_id=bid,
                             workflow_status=status, task_id=qid, task_name=qname,
                             priority=1 + k % 5, consensus_expected_label_count=consensus,
                             selected_label_id=labels[0][0] if labels else None,
                             created_at=bat, updated_at=last)
            self.activity[pk] = max(self.activity.get(pk, 0), last)
        return pid, first_labels

    def history(self, pid: str, key: str, pk: int, status: str,
                queues: dict[str, tuple[str, str]], labels: list[tuple[str, int, int]],
                rng: random.Random, last: int) -> int:
        if not labels:
            return last
        lid, _created, updated = labels[0]
        steps = [("Submit", "labeler", "TO_LABEL", "IN_REVIEW", updated)]
        if status in ("IN_REWORK", "DONE"):
            action = "Reject" if status == "IN_REWORK" else "Approve"
            at = updated + rng.randrange(HOUR_MS, 3 * DAY_MS)
            steps.append((action, "reviewer", "IN_REVIEW", status, at))
            self.inserts.add(store.reviews, id=self.id("review", f"{key}|{pk}"), label_id=lid,
                             action=action, created_by=self.users["reviewer"], created_at=at)
        for seq, (action, who, prev, nxt, at) in enumerate(steps):
            self.inserts.add(store.workflow_history, project_id=pid, data_row_pk=pk, seq=seq,
                             action=action, created_by=self.users[who], created_at=at,
                             previous_task_id=queues[prev][0], previous_task_name=queues[prev][1],
                             next_task_id=queues[nxt][0], next_task_name=queues[nxt][1])
            last = max(last, at)
        return last

    def tags(self, pid: str, texts: list[str]) -> None:
        """Resource tags on a project; a tag (its id, its colour) is shared by its projects."""
        for text in texts:
            color = TAG_COLORS.get(text, "#616161")
            self.inserts.add(store.project_tags, project_id=pid, tag_id=self.id("tag", text),
                             text=text, color=color)

    # --- models and slices ----------------------------------------------------------------

    def model(self, key: str, name: str, media_type: str, runs: list[str],
              rows: list[tuple[int, str, str]], labels: dict[int, str]) -> None:
        mid = self.id("model", key)
        at = LABELS_START_MS + 100 * DAY_MS
        self.inserts.add(store.models, id=mid, name=name, ontology_id=self.ontologies[media_type],
                         created_by=self.owner, created_at=at, updated_at=at)
        rng = random.Random(f"{self.seed}|model|{key}")
        for r, run_name in enumerate(runs):
            rid = self.id("model_run", f"{key}|{r}")
            rat = at + (r + 1) * 7 * DAY_MS
            meta = {"epochs": 10 * (r + 1), "learning_rate": 0.001 / (r + 1),
                    "framework": "pytorch"}
            self.inserts.add(store.model_runs, id=rid, model_id=mid, name=run_name,
                             training_metadata=orjson.dumps(meta).decode(), created_by=self.owner,
                             created_at=rat, updated_at=rat)
            for k, (pk, _drid, fname) in enumerate(rows):
                split = ("Training", "Training", "Training", "Validation", "Test")[k % 5]
                self.inserts.add(store.model_run_rows, model_run_id=rid, data_row_pk=pk,
                                 run_data_row_id=self.id("run_data_row", f"{rid}|{pk}"),
                                 split=split)
                if pk in labels:
                    self.inserts.add(store.model_run_labels, model_run_id=rid, label_id=labels[pk],
                                     data_row_pk=pk)
                pred = self.id("prediction", f"{rid}|{pk}")
                ann = annotations_for(self.seed, media_type, pred, fname, rng,
                                      prediction_noise=PREDICTION_NOISE.get(run_name, 8.0))
                self.inserts.add(store.predictions, id=pred, model_run_id=rid, data_row_pk=pk,
                                 label_kind=LABEL_KIND.get(media_type, "Default"),
                                 annotations=orjson.dumps(ann).decode(), created_at=rat)

    def slices(self, datasets: dict[str, str]) -> None:
        at = LABELS_START_MS + 150 * DAY_MS
        defs = [
            ("busy-streets", "Busy streets", "Street scenes tagged busy",
             [{"type": "dataset", "operator": "is", "ids": [datasets["IMAGE"]]},
              {"type": "metadata", "operator": "is", "schemaId": self.meta["tag"],
               "value": "busy"}]),
            ("recent-articles", "Recent articles", "News touched since April 2024",
             [{"type": "media_type", "operator": "is", "values": ["TEXT"]},
              {"type": "data_row_last_activity_at",
               "value": {"operator": "GREATER_THAN_OR_EQUAL", "timezone": "UTC",
                         "value": "2024-04-01"}}]),
            ("all-chats", "All support chats", "Every conversational row",
             [{"type": "media_type", "operator": "is", "values": ["CONVERSATIONAL"]}]),
        ]
        for key, name, desc, flt in defs:
            self.inserts.add(store.slices, id=self.id("slice", key), name=name, description=desc,
                             filter=orjson.dumps(flt).decode(), created_by=self.owner,
                             created_at=at, updated_at=at)

    # --- whole workspace ------------------------------------------------------------------

    def build(self) -> None:
        self.activity: dict[int, int] = {}
        self.project_ids: list[str] = []
        self.basics()
        pk = 1
        by_type: dict[str, list[tuple[int, str, str]]] = {}
        first_labels: dict[str, dict[int, str]] = {}
        for spec in MEDIA:
            rows = self.dataset(spec, pk)
            pk += len(rows)
            by_type[spec.media_type] = rows
            _pid, first_labels[spec.media_type] = self.project(
                spec, rows, spec.project, spec.media_type.lower())
        image = MEDIA[0]
        self.project(image, by_type["IMAGE"][:12], "Street Scenes QA", "image-qa")
        self.model("street-detector", "Street Detector", "IMAGE",
                   ["baseline-v1", "finetune-v2"], by_type["IMAGE"], first_labels["IMAGE"])
        self.model("entity-tagger", "Entity Tagger", "TEXT", ["ner-v1"], by_type["TEXT"],
                   first_labels["TEXT"])
        # Model runs over every medium the overview says model runs export: image and text
        # above, video and geospatial tiles here.
        self.model("traffic-tracker", "Traffic Tracker", "VIDEO", ["tracker-v1"],
                   by_type["VIDEO"], first_labels["VIDEO"])
        self.model("land-use-segmenter", "Land Use Segmenter", "TMS_GEO", ["landuse-v1"],
                   by_type["TMS_GEO"], first_labels["TMS_GEO"])
        self.slices({mt: self.id("dataset", mt) for mt in by_type})
        for row in self.inserts.rows["data_rows"]:
            row["last_activity_at"] = max(row["last_activity_at"],
                                          self.activity.get(row["pk"], 0))


def seed_demo(engine: Engine, *, rows: int = 0, seed: int = 7) -> None:
    """Fill the store with the demo workspace (once) and make sure the large project has
    `rows` extra image rows. Deterministic in `seed`; calling it again is a no-op."""
    if rows < 0:
        raise ValueError(f"rows: must be >= 0, got {rows}")
    with engine.begin() as conn:
        seeded = conn.execute(select(func.count()).select_from(store.organization)).scalar()
        if not seeded:
            demo = _Demo(seed)
            demo.build()
            demo.inserts.flush(conn)
    if rows:
        seed_large(engine, rows=rows, seed=seed)



def _large_label(seed: int, lid: str, i: int) -> str:
    """A compact but valid image label (box with a nested radio, plus a radio)."""
    f = [cuid(seed, "feature", f"{lid}|{k}") for k in range(4)]
    sch = _LARGE_SCHEMAS.get(seed)
    if sch is None:
        from export_widget.server.demo.samples import schema_ids

        sch = _LARGE_SCHEMAS.setdefault(seed, schema_ids(seed, "IMAGE"))
    color = ("red", "blue", "white")[i % 3]
    weather = ("sunny", "cloudy")[i % 2]
    ann = {
        "objects": [{
            "feature_id": f[0], "feature_schema_id": sch["car"], "name": "car", "value": "car",
            "annotation_kind": "ImageBoundingBox",
            "classifications": [{
                "feature_id": f[1], "feature_schema_id": sch["car/color"], "name": "color",
                "value": "color", "radio_answer": {
                    "feature_id": f[2], "feature_schema_id": sch[f"car/color/{color}"],
                    "name": color, "value": color, "classifications": []}}],
            "bounding_box": {"top": float(100 + i % 200), "left": float(50 + i % 400),
                             "height": float(40 + i % 60), "width": float(60 + i % 90)},
        }],
        "classifications": [{
            "feature_id": f[3], "feature_schema_id": sch["weather"], "name": "weather",
            "value": "weather", "radio_answer": {
                "feature_id": cuid(seed, "feature", f"{lid}|4"),
                "feature_schema_id": sch[f"weather/{weather}"], "name": weather,
                "value": weather, "classifications": []}}],
        "relationships": [],
    }
    return orjson.dumps(ann).decode()


_LARGE_SCHEMAS: dict[int, dict[str, str]] = {}
_LARGE_CHUNK = 50_000


def seed_large(engine: Engine, *, rows: int, seed: int = 7) -> None:
    """Top the Large Image Project up to `rows` rows (bulk inserts, one transaction per
    chunk). Row i is the same whatever the chunking, so re-running continues cleanly."""
    ds_id = cuid(seed, "dataset", "large")
    pid = cuid(seed, "project", "large")
    owner = cuid(seed, "user", "owner")
    users = {key: cuid(seed, "user", key) for key, *_ in USERS}
    queues = {status: (cuid(seed, "task_queue", f"large|{status}"), name)
              for status, name in QUEUES}
    created = LABELS_START_MS - 5 * DAY_MS
    with engine.begin() as conn:
        if conn.execute(select(store.datasets.c.id).where(store.datasets.c.id == ds_id)).first() \
                is None:
            conn.execute(insert(store.datasets), [{
                "id": ds_id, "name": LARGE_DATASET, "description": "Scale test images",
                "created_by": owner, "created_at": created, "updated_at": created}])
            conn.execute(insert(store.projects), [{
                "id": pid, "name": LARGE_PROJECT, "description": "Scale test project",
                "media_type": "IMAGE", "ontology_id": cuid(seed, "ontology", "IMAGE"),
                "created_by": owner, "created_at": created, "updated_at": created}])
            conn.execute(insert(store.task_queues), [
                {"id": qid, "project_id": pid, "name": name, "status": status}
                for status, (qid, name) in queues.items()])
        existing = conn.execute(select(func.count()).select_from(store.data_rows)
                                .where(store.data_rows.c.dataset_id == ds_id)).scalar() or 0
        next_pk = (conn.execute(select(func.max(store.data_rows.c.pk))).scalar() or 0) + 1
    start = existing + 1
    while start <= rows:
        end = min(rows, start + _LARGE_CHUNK - 1)
        inserts = _Tables()
        for i in range(start, end + 1):
            _large_row(inserts, seed, i, next_pk + i - start, ds_id, pid, owner, users, queues)
        with engine.begin() as conn:
            _ensure_batches(conn, seed, pid, owner, start, end)
            inserts.flush(conn)
        next_pk += end - start + 1
        start = end + 1


def _ensure_batches(conn: Connection, seed: int, pid: str, owner: str, start: int,
                    end: int) -> None:
    batches = store.batches
    for n in range((start - 1) // LARGE_BATCH_SIZE, (end - 1) // LARGE_BATCH_SIZE + 1):
        bid = cuid(seed, "batch", f"large|{n}")
        lo, hi = n * LARGE_BATCH_SIZE + 1, (n + 1) * LARGE_BATCH_SIZE
        added = min(hi, end) - max(lo, start) + 1
        row = conn.execute(select(batches.c.size).where(batches.c.id == bid)).first()
        if row is None:
            at = LABELS_START_MS - 5 * DAY_MS + (n + 1) * HOUR_MS
            conn.execute(insert(batches), [{"id": bid, "project_id": pid,
                                            "name": f"large-batch-{n + 1:04d}", "size": added,
                                            "created_by": owner, "created_at": at,
                                            "updated_at": at}])
        else:
            conn.execute(batches.update().where(batches.c.id == bid).values(size=row.size + added))


def _large_row(inserts: _Tables, seed: int, i: int, pk: int, ds_id: str, pid: str, owner: str,
               users: dict[str, str], queues: dict[str, tuple[str, str]]) -> None:
    name = f"large-{i:07d}.png"
    created = ROWS_CREATED_MS + (i % 28) * DAY_MS + (i * 37) % DAY_MS
    status = STATES[i % 4]
    batch_n = (i - 1) // LARGE_BATCH_SIZE
    bid = cuid(seed, "batch", f"large|{batch_n}")
    batch_at = LABELS_START_MS - 5 * DAY_MS + (batch_n + 1) * HOUR_MS
    last = batch_at
    label_id = None
    if status != "TO_LABEL":
        label_id = cuid(seed, "label", f"large|{i}")
        l_created = LABELS_START_MS + (i * 7_919_017) % (LABELS_DAYS * DAY_MS)
        l_updated = l_created + 60_000 + (i * 31) % HOUR_MS
        inserts.add(store.labels, id=label_id, project_id=pid, data_row_pk=pk, label_kind="Default",
                    annotations=_large_label(seed, label_id, i), created_by=users["labeler"],
                    created_at=l_created, updated_at=l_updated, seconds_to_create=10 + i % 300,
                    seconds_to_review=0 if status == "IN_REVIEW" else 5 + i % 90,
                    seconds_to_rework=20 + i % 100 if status == "IN_REWORK" else 0, skipped=False)
        steps = [("Submit", "labeler", "TO_LABEL", "IN_REVIEW", l_updated)]
        if status != "IN_REVIEW":
            action = "Reject" if status == "IN_REWORK" else "Approve"
            at = l_updated + HOUR_MS + (i * 13) % DAY_MS
            steps.append((action, "reviewer", "IN_REVIEW", status, at))
            inserts.add(store.reviews, id=cuid(seed, "review", f"large|{i}"), label_id=label_id,
                        action=action, created_by=users["reviewer"], created_at=at)
        for seq, (action, who, prev, nxt, at) in enumerate(steps):
            inserts.add(store.workflow_history, project_id=pid, data_row_pk=pk, seq=seq,
                        action=action, created_by=users[who], created_at=at,
                        previous_task_id=queues[prev][0], previous_task_name=queues[prev][1],
                        next_task_id=queues[nxt][0], next_task_name=queues[nxt][1])
            last = max(last, at)
    inserts.add(store.data_rows, pk=pk, id=cuid(seed, "data_row", f"large|{i}"), dataset_id=ds_id,
                global_key=name, external_id=name, row_data=f"/media/images/{name}",
                media_type="IMAGE", media_attributes=_LARGE_MEDIA, created_by=owner,
                created_at=created, updated_at=created, last_activity_at=last)
    inserts.add(store.project_rows, project_id=pid, data_row_pk=pk, batch_id=bid,
                workflow_status=status, task_id=queues[status][0], task_name=queues[status][1],
                priority=1 + i % 5, consensus_expected_label_count=1, selected_label_id=label_id,
                created_at=batch_at, updated_at=last)


_LARGE_MEDIA = orjson.dumps(
    {"height": 480, "width": 640, "mime_type": "image/png", "asset_type": "image"}).decode()
