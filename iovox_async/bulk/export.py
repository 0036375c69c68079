"""A CDR export as a resumable, shardable job: one part file per window, then a merge.

The job lives in a folder beside the output, ``<output>.parts/``::

    job.json                 the plan and the arguments (written once, atomically)
    w00003-1234.csv          window 3, finished: 1234 rows, no header

A window's part appears (by rename, after fsync) only when the whole window was
read, so after a crash every part present is complete and only the missing windows
are fetched again. The merge writes the header and the parts in window order to
the output, again through a temporary file, then removes the folder: the output is
the same bytes however many runs, processes or machines produced the parts.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import Callable
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from .._errors import ValidationError
from .._files import append_file, discard, temporary_path
from .cdrs import (
    DEFAULT_PAGE_SIZE,
    DEFAULT_PREFETCH,
    TYPED_ROWS,
    CsvLines,
    CsvRows,
    ExportFormat,
    JsonlRows,
    check_filters,
    export_format,
    header_text,
    row_writer,
    write_batches,
)
from .cdrtext import text_route
from .jobstate import durable, read_json, remove_temporaries, replacing, sync_folder, write_json
from .report import BulkError, Progress
from .windows import (
    DEFAULT_WINDOW_ROWS,
    Window,
    WindowPlan,
    check_window_filters,
    jsonable_filters,
    plan_windows,
    run_together,
    window_batches,
)

if TYPE_CHECKING:
    from .._client import AsyncIovox

logger = logging.getLogger("iovox_async")

JOB_KIND = "iovox-calls-export"
JOB_VERSION = 1
MANIFEST = "job.json"
DEFAULT_WINDOW_CONCURRENCY = 2
"""Windows read at once by one process (each with its own pages ahead)."""
_PART = re.compile(r"^w(\d{5,})-(\d+)\.(csv|jsonl)$")


def job_folder(path: str | os.PathLike[str]) -> Path:
    """The job folder of an export to ``path``: ``<path>.parts`` beside it."""
    target = Path(path)
    return target.with_name(target.name + ".parts")


@dataclass(frozen=True)
class ExportJob:
    """An export to ``target``: its plan, its format and the arguments it was asked with."""

    target: Path
    format: ExportFormat
    plan: WindowPlan
    arguments: dict[str, Any]

    @property
    def folder(self) -> Path:
        return job_folder(self.target)

    # -- creating and opening -------------------------------------------------------------

    @classmethod
    async def create(
        cls,
        client: AsyncIovox,
        path: str | os.PathLike[str],
        format: str | None = None,
        *,
        window_rows: int = DEFAULT_WINDOW_ROWS,
        **filters: Any,
    ) -> ExportJob:
        """Plan the range and write the job folder (replacing any earlier job there)."""
        target = Path(path)
        chosen = export_format(target, format)
        arguments = export_arguments(chosen, window_rows, filters)
        _fresh_folder(job_folder(target), target)  # before any request: can we write?
        try:
            plan = await plan_windows(client, window_rows=window_rows, **filters)
        except BaseException:  # nothing to resume yet
            shutil.rmtree(job_folder(target), ignore_errors=True)
            raise
        job = cls(target, chosen, plan, arguments)
        manifest = {
            "kind": JOB_KIND,
            "version": JOB_VERSION,
            "target": target.name,
            "format": chosen,
            "arguments": arguments,
            "plan": plan.to_dict(),
        }
        write_json(job.folder / MANIFEST, manifest)
        return job

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> ExportJob:
        """The job of an export to ``path``, as its folder records it."""
        target = Path(path)
        source = job_folder(target) / MANIFEST
        if not source.is_file():
            raise ValidationError(f"no export job for {target}: {source} is missing")
        data = read_json(source, "export job")
        if not isinstance(data, dict) or data.get("kind") != JOB_KIND:
            raise ValidationError(f"{source} is not an export job")
        if data.get("version") != JOB_VERSION:
            raise ValidationError(f"{source} was written by another version; start over")
        chosen = export_format(target, str(data["format"]))
        return cls(target, chosen, WindowPlan.from_dict(data["plan"]), dict(data["arguments"]))

    # -- parts --------------------------------------------------------------------------

    def finished(self) -> dict[int, tuple[Path, int]]:
        """Window index -> (part file, rows) of every finished window."""
        found: dict[int, tuple[Path, int]] = {}
        if not self.folder.is_dir():
            return found
        for entry in self.folder.iterdir():
            match = _PART.match(entry.name)
            if match and match.group(3) == self.format:
                found[int(match.group(1))] = (entry, int(match.group(2)))
        return found

    def pending(self) -> list[Window]:
        """The windows still to read, in plan order."""
        done = self.finished()
        return [window for window in self.plan.windows if window.index not in done]

    def clean(self) -> int:
        """Remove the temporary files a killed run left (of the parts and the output)."""
        return remove_temporaries(self.folder) + remove_temporaries(
            self.target.parent, self.target.name
        )

    async def run_window(
        self,
        client: AsyncIovox,
        window: Window | int,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        prefetch: int = DEFAULT_PREFETCH,
        on_rows: Callable[[int], object] | None = None,
    ) -> int:
        """Read one window into its part file; return its rows. Safe to call in any
        process that sees the job folder; a finished window is not read again.
        ``on_rows(count)`` as rows are written."""
        if isinstance(window, int):
            window = self.window(window)
        done = self.finished().get(window.index)
        if done is not None:
            return done[1]
        # CSV of the API's own texts where they are what the typed values write.
        text = text_route(self.plan.columns) if self.format == "csv" else None
        batches = window_batches(
            client,
            self.plan,
            window,
            page_size=page_size,
            prefetch=prefetch,
            route=TYPED_ROWS if text is None else text.pages(),
        )
        staging = temporary_path(self.folder / f"w{window.index:05d}.{self.format}")
        try:
            async with aclosing(batches):
                with staging.open("w", encoding="utf-8", newline="", buffering=1 << 20) as out:
                    writer: CsvRows | CsvLines | JsonlRows = (
                        row_writer(self.format, out, self.plan.columns)
                        if text is None
                        else CsvLines(out)
                    )
                    count = await write_batches(batches, writer, on_rows)
                    await anyio.to_thread.run_sync(durable, out)  # an fsync: off the loop
            # The row count is in the name, so the part is complete the moment it has one.
            os.replace(staging, self.folder / f"w{window.index:05d}-{count}.{self.format}")
            sync_folder(self.folder)
        finally:
            discard(staging)
        return count

    def window(self, index: int) -> Window:
        for window in self.plan.windows:
            if window.index == index:
                return window
        raise ValidationError(f"the export of {self.target} has no window {index}")

    def merge(self) -> int:
        """Write the output from the parts (all must be finished); return its rows."""
        done = self.finished()
        missing = [window.index for window in self.plan.windows if window.index not in done]
        if missing:
            raise BulkError(f"windows {missing[:10]} of {self.target} are not finished yet")
        total = 0
        with replacing(self.target, "wb") as handle:
            handle.write(header_text(self.format, self.plan.columns).encode("utf-8"))
            for window in self.plan.windows:
                part, rows = done[window.index]
                append_file(part, handle)
                total += rows
        shutil.rmtree(self.folder, ignore_errors=True)
        return total


def _fresh_folder(folder: Path, target: Path) -> None:
    """An empty job folder for ``target`` (an earlier job's is discarded)."""
    try:
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
    except OSError as error:  # name the file asked for, not the folder
        raise OSError(error.errno, f"cannot write {target}: {error.strerror}") from None


def export_arguments(format: str, window_rows: int, filters: dict[str, Any]) -> dict[str, Any]:
    """What a resumed export must have been asked with to continue this one."""
    return {"format": format, "window_rows": window_rows, "filters": jsonable_filters(filters)}


async def export_call_data(
    client: AsyncIovox,
    path: str | os.PathLike[str],
    format: str | None = None,
    *,
    page_size: int = DEFAULT_PAGE_SIZE,
    prefetch: int = DEFAULT_PREFETCH,
    window_rows: int = DEFAULT_WINDOW_ROWS,
    concurrency: int = DEFAULT_WINDOW_CONCURRENCY,
    resume: bool = False,
    progress: Progress | None = None,
    **filters: Any,
) -> int:
    """The engine of :meth:`Bulk.export_call_data` (documented there), for ``client``."""
    target = Path(path)
    chosen = export_format(target, format)
    check_filters(filters, page_size, prefetch)
    check_window_filters(filters)
    if concurrency < 1:
        raise ValidationError("concurrency must be at least 1")
    if window_rows < 1:
        raise ValidationError("window_rows must be at least 1")
    job: ExportJob | None = None
    if resume and (job_folder(target) / MANIFEST).is_file():
        job = ExportJob.open(target)
        asked = export_arguments(chosen, window_rows, filters)
        if job.arguments != asked:
            raise ValidationError(
                f"{job.folder} holds an export asked with other arguments "
                f"({job.arguments}); run without resume to start over"
            )
        removed = job.clean()
        if removed:
            logger.info("export: removed %d temporary files of an interrupted run", removed)
    if job is None:
        job = await ExportJob.create(client, target, chosen, window_rows=window_rows, **filters)
    await run_windows(
        client,
        job,
        page_size=page_size,
        prefetch=prefetch,
        concurrency=concurrency,
        progress=progress,
    )
    # Copying every part into the output is file work of seconds for a big export.
    return await anyio.to_thread.run_sync(job.merge)


async def run_windows(
    client: AsyncIovox,
    job: ExportJob,
    *,
    page_size: int,
    prefetch: int,
    concurrency: int,
    progress: Progress | None,
) -> None:
    """Read the unfinished windows of ``job``, ``concurrency`` at a time."""
    queue = job.pending()
    done = sum(rows for _, rows in job.finished().values())
    total = max(job.plan.total, done)
    if progress is not None:
        progress(done, total)
    # The pages ahead are shared out so memory does not grow with concurrency.
    workers = min(concurrency, len(queue))
    ahead = max(1, prefetch // max(1, workers))
    report_every = max(1, page_size)
    reported = done

    def on_rows(count: int) -> None:
        nonlocal done, reported
        done += count
        if progress is not None and done - reported >= report_every:
            reported = done
            progress(done, max(total, done))

    async def worker() -> None:
        while queue:
            window = queue.pop(0)
            await job.run_window(
                client, window, page_size=page_size, prefetch=ahead, on_rows=on_rows
            )

    await run_together([worker] * workers)
    if progress is not None:
        progress(done, max(total, done))


__all__ = [
    "DEFAULT_WINDOW_CONCURRENCY",
    "ExportJob",
    "export_call_data",
    "job_folder",
]
