"""A row process (`python -m export_widget.server.row_process`): builds export batches for
the server process that started it (row_processes.py).

It reads the store URL, then `BatchJob`s, from stdin and answers each on stdout with `True`
and the batch (`write_batch`) or with the exception it raised, until stdin closes.
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
import sys
from collections import OrderedDict
from typing import IO

from sqlalchemy import Connection, Engine

from export_widget.server.export_spec import EncodedBatch
from export_widget.server.row_processes import (
    BatchJob,
    RowBuildError,
    build_batch,
    read_message,
    write_batch,
    write_message,
)
from export_widget.server.rows.build import Context
from export_widget.server.store import connect_store

KEEP_CONTEXTS = 4  # exports whose lookup tables a process keeps (oldest dropped first)
# A batch allocates a few hundred thousand dicts, lists and tuples that refcounting frees
# (row trees hold no cycles), yet each allocation counted toward a collection that walked
# every object of SQLAlchemy and the loaded modules: that was 40 % of a default row's build
# time (22.5 against 12.5 us per row with this threshold and the startup objects frozen).
GC_THRESHOLD = 20_000


class Worker:
    """The store and the lookup tables of the exports this process builds rows for."""

    def __init__(self, db_url: str) -> None:
        self.store: Engine = connect_store(db_url)
        self.contexts: OrderedDict[str, Context] = OrderedDict()

    def context(self, conn: Connection, job: BatchJob) -> Context:
        context = self.contexts.get(job.export)
        if context is None:
            context = self.contexts[job.export] = Context.load(conn, job.media_base_url)
            while len(self.contexts) > KEEP_CONTEXTS:
                self.contexts.popitem(last=False)
        return context

    def answer(self, job: BatchJob) -> EncodedBatch | Exception:
        try:
            with self.store.connect() as conn:
                return build_batch(conn, self.context(conn, job), job)
        except Exception as exc:  # the export fails with it; the process goes on
            return exc


def serve(jobs: IO[bytes], results: IO[bytes]) -> None:
    try:
        worker = Worker(read_message(jobs))
        gc.freeze()  # what the process loaded lives as long as it does: never walk it again
        gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
        while True:
            answer = worker.answer(read_message(jobs))
            if isinstance(answer, EncodedBatch):
                write_message(results, True)
                write_batch(results, answer)
                continue
            try:
                write_message(results, answer)
            except (pickle.PicklingError, TypeError, AttributeError):
                # An error that cannot be pickled is sent as its text (nothing was written).
                write_message(results, RowBuildError(f"{type(answer).__name__}: {answer}"))
    except EOFError:
        return


def main() -> None:
    # Ctrl-C in a terminal reaches the whole process group; the server stops its children.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    results = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print cannot corrupt a reply
    serve(sys.stdin.buffer, results)


if __name__ == "__main__":
    main()
