"""Two exports -> rows only in A, only in B, and what changed in the rows both hold.

Rows are matched by data row id, or by global key when the two exports share no ids (the
same data on two servers). Within a row the comparison looks at what a QA lead asks about:
the workflow status per project, labels added or removed, annotations added, removed, moved
(same feature, other geometry) or changed (other answer or nested classification), reviews,
and metadata. Timestamps, signed URLs and other fields that change on every export are not
compared, so two exports of an untouched project compare equal.

Memory stays flat in the number of rows: A is indexed as key -> (line, digest of the compared
facets); only rows whose digests differ are read again and diffed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict
from urllib.parse import urlsplit

import orjson

from .rows import RowSource

KINDS: tuple[str, ...] = (
    "only_in_a", "only_in_b", "workflow_status", "label_added", "label_removed",
    "annotation_added", "annotation_removed", "annotation_moved", "annotation_changed",
    "review_added", "review_removed", "metadata",
)
COLUMNS: tuple[str, ...] = (
    "key", "data_row_id", "global_key", "kind", "where", "label_id", "feature",
    "feature_id", "before", "after", "line_a", "line_b",
)
KeyMode = Literal["auto", "id", "global_key"]
GEOMETRY_KEYS = frozenset({
    "bounding_box", "polygon", "line", "point", "mask", "composite_mask", "location",
    "conversational_location", "geojson", "page_number", "frame_number",
})
_ID_KEYS = frozenset({"feature_id", "feature_schema_id", "schema_id"})
_SHORT = 160  # characters of a before/after value in the list


@dataclass
class Comparison:
    """The result of `compare_exports`: one line per change, and counts."""

    key: str
    rows_a: int
    rows_b: int
    changes: Any  # pandas DataFrame, COLUMNS
    counts: dict[str, int]
    changed_rows: int
    unchanged_rows: int
    rows: Any = field(default=None)  # DataFrame: one line per row that differs

    def summary(self) -> dict[str, Any]:
        return {"key": self.key, "rows_a": self.rows_a, "rows_b": self.rows_b,
                "changed_rows": self.changed_rows, "unchanged_rows": self.unchanged_rows,
                "only_in_a": self.counts["only_in_a"], "only_in_b": self.counts["only_in_b"],
                "counts": dict(self.counts)}


def compare(a: Any, b: Any, key: KeyMode = "auto") -> Any:
    """The changes from export `a` to export `b` as a DataFrame, one line per change.

    `a` and `b` are history entries, spools, NDJSON paths or lists of rows. Count the kinds
    with `compare(a, b)["kind"].value_counts()`."""
    return compare_exports(a, b, key).changes


def compare_exports(a: Any, b: Any, key: KeyMode = "auto") -> Comparison:
    """`compare`, with the counts per kind and a per-row summary."""
    import pandas as pd

    if key not in ("auto", "id", "global_key"):
        raise ValueError(f"key: one of 'auto', 'id', 'global_key', got {key!r}")
    src_a, src_b = RowSource(a), RowSource(b)
    by_id: dict[str, tuple[int, bytes]] = {}
    by_gk: dict[str, tuple[int, bytes]] = {}
    for line, row in src_a.iter():
        digest = _digest(row)
        rid, gk = _ids(row)
        if rid:
            by_id[rid] = (line, digest)
        if gk:
            by_gk[gk] = (line, digest)
    mode = key if key != "auto" else _pick_mode(by_id, src_b)
    index = by_id if mode == "id" else by_gk
    cross = mode == "global_key"
    changes: list[dict[str, Any]] = []
    seen: set[str] = set()
    changed_rows = unchanged = 0
    for line_b, row_b in src_b.iter():
        row_key = _key(row_b, mode)
        if row_key is None:
            continue
        seen.add(row_key)
        hit = index.get(row_key)
        if hit is None:
            changes.append(_row_change(row_key, row_b, "only_in_b", None, line_b))
            continue
        line_a, digest_a = hit
        if digest_a == _digest(row_b):
            unchanged += 1
            continue
        found = list(_diff_rows(src_a.get(line_a), row_b, cross))
        if not found:
            unchanged += 1
            continue
        changed_rows += 1
        rid, gk = _ids(row_b)
        for change in found:
            changes.append({"key": row_key, "data_row_id": rid, "global_key": gk,
                            **change, "line_a": line_a, "line_b": line_b})
    for row_key, (line_a, _digest_a) in sorted(index.items(), key=lambda kv: kv[1][0]):
        if row_key not in seen:
            changes.append(_row_change(row_key, src_a.get(line_a), "only_in_a", line_a, None))
    frame = pd.DataFrame(changes, columns=list(COLUMNS))
    for column in ("line_a", "line_b"):
        frame[column] = frame[column].astype("Int64")
    counts = {kind: 0 for kind in KINDS}
    counts.update({str(k): int(v) for k, v in frame["kind"].value_counts().items()})
    return Comparison(key=mode, rows_a=len(src_a), rows_b=len(src_b), changes=frame,
                      counts=counts, changed_rows=changed_rows, unchanged_rows=unchanged,
                      rows=_per_row(frame))


def _per_row(frame: Any) -> Any:
    """One line per row that differs: its key, status, the kinds of change, the lines."""
    import pandas as pd

    if frame.empty:
        return pd.DataFrame(columns=["key", "data_row_id", "global_key", "status", "kinds",
                                     "changes", "line_a", "line_b"])
    grouped = frame.groupby("key", sort=False)
    out = grouped.agg(data_row_id=("data_row_id", "first"), global_key=("global_key", "first"),
                      kinds=("kind", lambda k: ", ".join(dict.fromkeys(k))),
                      changes=("kind", "size"), line_a=("line_a", "first"),
                      line_b=("line_b", "first")).reset_index()
    out.insert(3, "status", [k if k in ("only_in_a", "only_in_b") else "changed"
                             for k in out["kinds"]])
    return out


# -- keys and digests ---------------------------------------------------------------------


def _ids(row: Mapping[str, Any]) -> tuple[str | None, str | None]:
    data_row = row.get("data_row") or {}
    return data_row.get("id"), data_row.get("global_key")


def _key(row: Mapping[str, Any], mode: str) -> str | None:
    rid, gk = _ids(row)
    return rid if mode == "id" else gk


def _pick_mode(by_id: Mapping[str, Any], src_b: RowSource) -> str:
    # Exports of one server share data row ids; a look at B's first rows is enough to tell.
    for n, (_line, row) in enumerate(src_b.iter()):
        if _ids(row)[0] in by_id:
            return "id"
        if n >= 999:
            break
    return "global_key" if by_id else "id"


def _digest(row: Mapping[str, Any]) -> bytes:
    facets = {"c": _containers(row), "m": _metadata(row)}
    blob = orjson.dumps(_strip_volatile(facets), option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(blob, digest_size=16).digest()


def _strip_volatile(value: Any) -> Any:
    """Drop what differs between exports of the same content: label timestamps and URLs'
    origin (the digest only; the diff compares each part explicitly)."""
    if isinstance(value, dict):
        return {k: _strip_volatile(v) for k, v in value.items()
                if k not in ("created_at", "updated_at", "content_last_updated_at")}
    if isinstance(value, list):
        return [_strip_volatile(v) for v in value]
    return value


# -- what a row holds ---------------------------------------------------------------------


class _Container(TypedDict):
    """Labels of one project, or the labels or predictions of one model run."""

    where: str
    status: str | None
    labels: list[Mapping[str, Any]]


def _containers(row: Mapping[str, Any]) -> dict[str, _Container]:
    out: dict[str, _Container] = {}
    for pid, project in (row.get("projects") or {}).items():
        details = project.get("project_details") or {}
        out[f"project:{pid}"] = _Container(where=project.get("name") or pid,
                                           status=details.get("workflow_status"),
                                           labels=project.get("labels") or [])
    for model in (row.get("experiments") or {}).values():
        for run_id, run in (model.get("runs") or {}).items():
            name = run.get("name") or run_id
            out[f"run:{run_id}:labels"] = _Container(
                where=f"{name} ground truth", status=None, labels=run.get("labels") or [])
            if "predictions" in run:
                out[f"run:{run_id}:predictions"] = _Container(
                    where=f"{name} predictions", status=None,
                    labels=run.get("predictions") or [])
    return out


def _metadata(row: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in row.get("metadata_fields") or []:
        name = item.get("schema_name") or item.get("schema_id")
        out[str(name)] = _metadata_value(item.get("value"))
    return out


def _metadata_value(value: Any) -> Any:
    # An enum answer is its option's name; ids differ from one server to another.
    if isinstance(value, dict):
        return value.get("schema_name", value)
    if isinstance(value, list):
        return sorted(str(_metadata_value(v)) for v in value)
    return value


def _without_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_ids(v) for k, v in value.items() if k not in _ID_KEYS}
    if isinstance(value, list):
        return [_without_ids(v) for v in value]
    return value


def _geometry(item: Mapping[str, Any]) -> dict[str, Any]:
    geo = {k: item[k] for k in GEOMETRY_KEYS if k in item}
    for k in ("mask", "composite_mask"):
        if isinstance(geo.get(k), dict) and "url" in geo[k]:
            # The same mask file served by another host is the same mask.
            geo[k] = {**geo[k], "url": urlsplit(str(geo[k]["url"])).path}
    return geo


def _items(annotations: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Every annotation of a label by a stable identity: feature id (and frame for video)."""
    out: dict[str, Mapping[str, Any]] = {}

    def put(prefix: str, items: Any, suffix: str = "") -> None:
        values = items.values() if isinstance(items, dict) else items or []
        for n, item in enumerate(values):
            if isinstance(item, dict):
                fid = item.get("feature_id") or f"#{n}"
                out[f"{prefix}:{fid}{suffix}"] = item

    put("object", annotations.get("objects"))
    put("classification", annotations.get("classifications"))
    put("relationship", annotations.get("relationships"))
    for frame, content in (annotations.get("frames") or {}).items():
        if isinstance(content, dict):
            put("object", content.get("objects"), f"@{frame}")
            put("classification", content.get("classifications"), f"@{frame}")
    for name, value in annotations.items():
        if name not in ("objects", "classifications", "relationships", "frames"):
            out[f"field:{name}"] = {"name": name, "value": value}
    return out


# -- the diff -----------------------------------------------------------------------------


def _row_change(row_key: str, row: Mapping[str, Any], kind: str, line_a: int | None,
                line_b: int | None) -> dict[str, Any]:
    rid, gk = _ids(row)
    labels = sum(len(c["labels"]) for c in _containers(row).values())
    return {"key": row_key, "data_row_id": rid, "global_key": gk, "kind": kind, "where": None,
            "label_id": None, "feature": None, "feature_id": None,
            "before": f"{labels} label(s)" if kind == "only_in_a" else None,
            "after": f"{labels} label(s)" if kind == "only_in_b" else None,
            "line_a": line_a, "line_b": line_b}


def _change(kind: str, where: str | None = None, label_id: str | None = None,
            feature: str | None = None, feature_id: str | None = None, before: Any = None,
            after: Any = None) -> dict[str, Any]:
    return {"kind": kind, "where": where, "label_id": label_id, "feature": feature,
            "feature_id": feature_id, "before": _short(before), "after": _short(after)}


def _short(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    return text if len(text) <= _SHORT else text[: _SHORT - 1] + "…"


def _diff_rows(a: Mapping[str, Any], b: Mapping[str, Any], cross: bool) -> Iterator[dict[str, Any]]:
    ca, cb = _containers(a), _containers(b)
    for cid in dict.fromkeys([*ca, *cb]):
        left = ca.get(cid) or _Container(where=cb[cid]["where"], status=None, labels=[])
        right = cb.get(cid) or _Container(where=left["where"], status=None, labels=[])
        where = right["where"]
        if left["status"] != right["status"]:
            yield _change("workflow_status", where, before=left["status"],
                          after=right["status"])
        yield from _diff_labels(where, left["labels"], right["labels"], cross)
    ma, mb = _metadata(a), _metadata(b)
    for name in dict.fromkeys([*ma, *mb]):
        if ma.get(name) != mb.get(name):
            yield _change("metadata", feature=name, before=ma.get(name), after=mb.get(name))


def _pair(left: list[Mapping[str, Any]], right: list[Mapping[str, Any]], ident: Any,
          cross: bool) -> Iterator[tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]]:
    """Pairs by identity; across servers (ids differ) the leftovers pair up in order."""
    by_left = {ident(x): x for x in left}
    by_right = {ident(x): x for x in right}
    only_left = [x for k, x in by_left.items() if k not in by_right]
    only_right = [x for k, x in by_right.items() if k not in by_left]
    for k, x in by_left.items():
        if k in by_right:
            yield x, by_right[k]
    if cross:
        while only_left and only_right:
            yield only_left.pop(0), only_right.pop(0)
    for x in only_left:
        yield x, None
    for x in only_right:
        yield None, x


def _diff_labels(where: str, left: list[Mapping[str, Any]], right: list[Mapping[str, Any]],
                 cross: bool) -> Iterator[dict[str, Any]]:
    for la, lb in _pair(left, right, lambda lab: lab.get("id"), cross):
        if lb is None:
            assert la is not None
            yield _change("label_removed", where, la.get("id"),
                          before=f"{len(_items(la.get('annotations') or {}))} annotation(s)")
            continue
        if la is None:
            yield _change("label_added", where, lb.get("id"),
                          after=f"{len(_items(lb.get('annotations') or {}))} annotation(s)")
            continue
        label_id = lb.get("id")
        yield from _diff_annotations(where, label_id, la.get("annotations") or {},
                                     lb.get("annotations") or {}, cross)
        yield from _diff_reviews(where, label_id, la, lb, cross)


def _diff_annotations(where: str, label_id: Any, a: Mapping[str, Any], b: Mapping[str, Any],
                      cross: bool) -> Iterator[dict[str, Any]]:
    items_a, items_b = _items(a), _items(b)
    pairs: Iterator[tuple[tuple[str, Mapping[str, Any]] | None,
                          tuple[str, Mapping[str, Any]] | None]]
    if cross:
        # Feature ids are per server: pair by kind, name and frame, in order.
        keys_a, keys_b = _loose_keys(items_a), _loose_keys(items_b)
        pairs = ((keys_a.get(k), keys_b.get(k)) for k in dict.fromkeys([*keys_a, *keys_b]))
    else:
        pairs = (((k, items_a[k]) if k in items_a else None,
                  (k, items_b[k]) if k in items_b else None)
                 for k in dict.fromkeys([*items_a, *items_b]))
    for pa, pb in pairs:
        item = (pb or pa)[1]  # type: ignore[index]
        feature, fid = item.get("name"), item.get("feature_id")
        if pb is None:
            yield _change("annotation_removed", where, label_id, feature, fid,
                          before=_describe(pa[1]))  # type: ignore[index]
            continue
        if pa is None:
            yield _change("annotation_added", where, label_id, feature, fid,
                          after=_describe(pb[1]))
            continue
        ia, ib = pa[1], pb[1]
        ga, gb = _geometry(ia), _geometry(ib)
        if ga != gb:
            yield _change("annotation_moved", where, label_id, feature, fid, before=ga, after=gb)
        rest_a = _without_ids({k: v for k, v in ia.items() if k not in GEOMETRY_KEYS})
        rest_b = _without_ids({k: v for k, v in ib.items() if k not in GEOMETRY_KEYS})
        if rest_a != rest_b:
            yield _change("annotation_changed", where, label_id, feature, fid,
                          before=_describe(ia, geometry=False),
                          after=_describe(ib, geometry=False))


def _loose_keys(items: Mapping[str, Mapping[str, Any]]
                ) -> dict[str, tuple[str, Mapping[str, Any]]]:
    """Identities without feature ids: kind, name, frame, and the n-th of those."""
    out: dict[str, tuple[str, Mapping[str, Any]]] = {}
    seen: dict[str, int] = {}
    for identity, item in items.items():
        prefix, _, rest = identity.partition(":")
        base = (f"{prefix}:{item.get('name')}:{item.get('annotation_kind', '')}"
                f"@{rest.partition('@')[2]}")
        n = seen[base] = seen.get(base, 0) + 1
        out[f"{base}#{n}"] = (identity, item)
    return out


def _describe(item: Mapping[str, Any], geometry: bool = True) -> str:
    """A short text for a list cell: the answer of a classification, the kind and shape of
    an object."""
    answer = _answer(item)
    if answer is not None:
        return f"{item.get('name')}: {answer}"
    kind = item.get("annotation_kind") or ""
    if not geometry:
        nested = [f"{c.get('name')}: {_answer(c)}" for c in item.get("classifications") or []]
        return f"{kind} {'; '.join(nested)}".strip()
    geo = _geometry(item)
    return f"{kind} {orjson.dumps(geo).decode() if geo else ''}".strip()


def _answer(item: Mapping[str, Any]) -> str | None:
    for key in ("radio_answer", "conversational_radio_answer"):
        if isinstance(item.get(key), dict):
            return str(item[key].get("name"))
    for key in ("checklist_answers", "conversational_checklist_answers"):
        if isinstance(item.get(key), list):
            return ", ".join(str(x.get("name")) for x in item[key])
    for key in ("text_answer", "conversational_text_answer"):
        if isinstance(item.get(key), dict):
            return str(item[key].get("content"))
    return None


def _diff_reviews(where: str, label_id: Any, la: Mapping[str, Any], lb: Mapping[str, Any],
                  cross: bool) -> Iterator[dict[str, Any]]:
    ra = (la.get("label_details") or {}).get("reviews") or []
    rb = (lb.get("label_details") or {}).get("reviews") or []

    def ident(review: Mapping[str, Any]) -> Any:
        if cross or "id" not in review:
            return (review.get("review_action"), review.get("reviewed_by"),
                    review.get("reviewed_at"))
        return review["id"]

    for a, b in _pair(ra, rb, ident, cross=False):
        if b is None and a is not None:
            yield _change("review_removed", where, label_id, before=_review_text(a))
        elif a is None and b is not None:
            yield _change("review_added", where, label_id, after=_review_text(b))


def _review_text(review: Mapping[str, Any]) -> str:
    return (f"{review.get('review_action')} by {review.get('reviewed_by')} "
            f"at {review.get('reviewed_at')}")
