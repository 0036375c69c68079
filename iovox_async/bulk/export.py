"""A CDR export as a resumable, shardable job: windows appended in plan order to one
growing file, or written to part files by any process.

The job lives in a folder beside the output, ``<output>.parts/``::

    job.json                          the plan and the arguments (written once, atomically)
    head-00003-101234-65432100.csv    the output so far: the header and windows 0 to 2,
                                      101,234 rows, whole up to byte 65,432,100
    w00007-1234.csv                   window 7, read by another worker: 1234 rows, no header

An export in one process appends each window to the head as it reads it, and renames
the head (an atomic step) when the window is complete, so the head's name always
says how many windows and bytes are whole. A run killed in the middle of a window
leaves bytes past that length, which a resumed run cuts off before it reads on.
Windows read elsewhere (another worker, or a second window at once) go to part files,
which appear (by rename, after fsync) only when their window is complete; the head
takes each one in when it gets there. When the head holds every window it is flushed
to disk and renamed to the output. So the output is the same bytes however many runs,
processes or machines read its windows, and an export read by one process copies
no file.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
from collections import deque
from collections.abc import Callable
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import anyio

from .._errors import ValidationError
from .._files import append_file, discard, temporary_path
from .cdrs import (
    DEFAULT_PAGE_SIZE,
    DEFAULT_PREFETCH,
    TYPED_ROWS,
    CsvRows,
    ExportFormat,
    JsonlRows,
    TextLines,
    check_filters,
    export_format,
    header_text,
    row_writer,
    write_batches,
)
from .cdrtext import text_route
from .jobstate import (
    durable,
    held,
    read_json,
    remove_temporaries,
    sync_folder,
    write_behind,
    write_json,
)
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
DEFAULT_WINDOW_CONCURRENCY = 1
"""Windows read at once by one process. One is as fast where the pages ahead keep the
server busy, and it copies nothing: each further window is read into a part file that
the head copies in when it gets there."""
_PART = re.compile(r"^w(\d{5,})-(\d+)\.(csv|jsonl)$")
_HEAD = re.compile(r"^head-(\d{5,})-(\d+)-(\d+)\.(csv|jsonl)$")


def job_folder(path: str | os.PathLike[str]) -> Path:
    """The job folder of an export to ``path``: ``<path>.parts`` beside it."""
    target = Path(path)
    return target.with_name(target.name + ".parts")


@dataclass(frozen=True)
class Head:
    """The output as far as it is assembled: its header and windows ``[0, next)`` in
    plan order, ``rows`` rows, whole up to byte ``size`` of ``path``."""

    path: Path
    next: int
    rows: int
    size: int


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

    def parts(self) -> dict[int, tuple[Path, int]]:
        """Window index -> (part file, rows) of every window finished in a part file."""
        found: dict[int, tuple[Path, int]] = {}
        if not self.folder.is_dir():
            return found
        for entry in self.folder.iterdir():
            match = _PART.match(entry.name)
            if match and match.group(3) == self.format:
                found[int(match.group(1))] = (entry, int(match.group(2)))
        return found

    def head(self) -> Head | None:
        """The head as its name describes it (``None`` before the first window)."""
        heads = []
        if self.folder.is_dir():
            for entry in self.folder.iterdir():
                match = _HEAD.match(entry.name)
                if match and match.group(4) == self.format:
                    numbers = (int(match.group(n)) for n in (1, 2, 3))
                    heads.append(Head(entry, *numbers))
        return max(heads, key=lambda head: head.next, default=None)

    def pending(self) -> list[Window]:
        """The windows still to read, in plan order."""
        head, parts = self.head(), self.parts()
        start = head.next if head is not None else 0
        return [window for window in self.plan.windows[start:] if window.index not in parts]

    def clean(self) -> int:
        """Remove the temporary files a killed run left (of the parts and the output)."""
        return remove_temporaries(self.folder) + remove_temporaries(
            self.target.parent, self.target.name
        )

    def _head_at(self, next: int, rows: int, size: int) -> Head:
        name = f"head-{next:05d}-{rows}-{size}.{self.format}"
        return Head(self.folder / name, next, rows, size)

    def open_head(self) -> Head:
        """The head to append to: the one an earlier run left, cut back to its whole
        windows, or a new one holding the header."""
        head = self.head()
        if head is not None:
            with head.path.open("r+b") as handle:
                if os.fstat(handle.fileno()).st_size >= head.size:
                    handle.truncate(head.size)
                    return head
            # Shorter than its name says (the system went down before it reached the
            # disk): its windows are read again.
            discard(head.path)
        header = header_text(self.format, self.plan.columns).encode("utf-8")
        head = self._head_at(0, 0, len(header))
        head.path.write_bytes(header)
        return head

    async def _write_window(
        self,
        client: AsyncIovox,
        window: Window,
        out: TextIO,
        *,
        page_size: int,
        prefetch: int,
        on_rows: Callable[[int], object] | None,
    ) -> int:
        """Write every row of ``window`` to ``out``; return the rows."""
        # The API's own texts where they are what the typed values write.
        text = text_route(self.plan.columns, self.format)
        batches = window_batches(
            client,
            self.plan,
            window,
            page_size=page_size,
            prefetch=prefetch,
            route=TYPED_ROWS if text is None else text.pages(),
        )
        writer: CsvRows | TextLines | JsonlRows = (
            row_writer(self.format, out, self.plan.columns) if text is None else TextLines(out)
        )
        async with aclosing(batches), write_behind(out, on_rows) as counted:
            return await write_batches(batches, writer, counted)

    async def append_window(
        self,
        client: AsyncIovox,
        head: Head,
        window: Window,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        prefetch: int = DEFAULT_PREFETCH,
        on_rows: Callable[[int], object] | None = None,
    ) -> Head:
        """Read ``window`` (the one after the head's last) onto the end of the head; the
        head that then holds it."""
        if window.index != head.next:
            raise BulkError(f"window {window.index} is not next to the head ({head.next})")
        try:
            with head.path.open("a", encoding="utf-8", newline="", buffering=1 << 20) as out:
                count = await self._write_window(
                    client, window, out, page_size=page_size, prefetch=prefetch, on_rows=on_rows
                )
                out.flush()
                size = os.fstat(out.fileno()).st_size
        except BaseException:
            # Only the whole windows stay (a resumed run would cut the rest off anyway).
            with contextlib.suppress(OSError):
                os.truncate(head.path, head.size)
            raise
        grown = self._head_at(window.index + 1, head.rows + count, size)
        os.replace(head.path, grown.path)
        return grown

    def absorb(self, head: Head, window: int) -> Head:
        """Copy the part of ``window`` (the one after the head's last) onto the end of
        the head; the head that then holds it."""
        part, rows = self.parts()[window]
        if window != head.next:
            raise BulkError(f"window {window} is not next to the head ({head.next})")
        with head.path.open("ab") as handle:
            append_file(part, handle)
            handle.flush()
            size = os.fstat(handle.fileno()).st_size
        grown = self._head_at(window + 1, head.rows + rows, size)
        os.replace(head.path, grown.path)
        discard(part)
        return grown

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
        process that sees the job folder; a window finished already is not read
        again (0 rows for one the head holds). ``on_rows(count)`` as rows are written."""
        if isinstance(window, int):
            window = self.window(window)
        done = self.parts().get(window.index)
        if done is not None:
            return done[1]
        head = self.head()
        if head is not None and window.index < head.next:
            return 0
        staging = temporary_path(self.folder / f"w{window.index:05d}.{self.format}")
        try:
            with staging.open("w", encoding="utf-8", newline="", buffering=1 << 20) as out:
                count = await self._write_window(
                    client, window, out, page_size=page_size, prefetch=prefetch, on_rows=on_rows
                )
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

    def finish(self, head: Head) -> int:
        """Make ``head`` (holding every window) the output: flushed to disk and renamed
        into place; the job folder goes. Its rows."""
        if head.next < len(self.plan.windows):
            raise BulkError(f"windows {head.next}.. of {self.target} are not in the head yet")
        with head.path.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(head.path, self.target)
        sync_folder(self.target.parent)
        shutil.rmtree(self.folder, ignore_errors=True)
        return head.rows

    def merge(self) -> int:
        """Write the output from the head and the parts (every window must be in one
        of them); return its rows."""
        head = self.head()
        parts = self.parts()
        start = head.next if head is not None else 0
        missing = [w.index for w in self.plan.windows[start:] if w.index not in parts]
        if missing:
            raise BulkError(f"windows {missing[:10]} of {self.target} are not finished yet")
        head = self.open_head()
        for window in self.plan.windows[head.next :]:
            head = self.absorb(head, window.index)
        return self.finish(head)


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
    manifest = job_folder(target) / MANIFEST
    what = f"an export to {target}"
    job: ExportJob | None = None
    with held(manifest, what):  # an earlier job still being run is neither resumed nor removed
        if resume and manifest.is_file():
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
    with held(manifest, what):
        head = await run_windows(
            client,
            job,
            page_size=page_size,
            prefetch=prefetch,
            concurrency=concurrency,
            progress=progress,
        )
        # The output's fsync is file work of a second for a big export: off the loop.
        return await anyio.to_thread.run_sync(job.finish, head)


async def run_windows(
    client: AsyncIovox,
    job: ExportJob,
    *,
    page_size: int,
    prefetch: int,
    concurrency: int,
    progress: Progress | None,
) -> Head:
    """Bring every window of ``job`` into its head, in plan order; the head then.

    The head reads its next window itself, unless a part has it already. With
    ``concurrency`` above 1, other workers read windows from the far end into parts
    meanwhile, which the head copies in when it gets there.
    """
    head = job.open_head()
    parts = job.parts()
    later = deque(w for w in job.plan.windows[head.next :] if w.index not in parts)
    done = head.rows + sum(rows for index, (_, rows) in parts.items() if index >= head.next)
    total = max(job.plan.total, done)
    if progress is not None:
        progress(done, total)
    # The pages ahead are shared out so memory does not grow with concurrency.
    workers = max(1, min(concurrency, len(later)))
    ahead = max(1, prefetch // workers)
    report_every = max(1, page_size)
    reported = done
    reading: dict[int, anyio.Event] = {}

    def on_rows(count: int) -> None:
        nonlocal done, reported
        done += count
        if progress is not None and done - reported >= report_every:
            reported = done
            progress(done, max(total, done))

    async def read_head() -> None:
        nonlocal head
        for window in job.plan.windows[head.next :]:
            if later and later[0] is window:
                later.popleft()
                head = await job.append_window(
                    client, head, window, page_size=page_size, prefetch=ahead, on_rows=on_rows
                )
                continue
            finished = reading.get(window.index)
            if finished is not None:
                await finished.wait()
            head = await anyio.to_thread.run_sync(job.absorb, head, window.index)

    async def read_parts() -> None:
        while len(later) > 1:  # the first is the head's
            window = later.pop()
            finished = reading[window.index] = anyio.Event()
            try:
                await job.run_window(
                    client, window, page_size=page_size, prefetch=ahead, on_rows=on_rows
                )
            finally:
                finished.set()

    await run_together([read_head] + [read_parts] * (workers - 1))
    if progress is not None:
        progress(done, max(total, done))
    return head


__all__ = [
    "DEFAULT_WINDOW_CONCURRENCY",
    "ExportJob",
    "Head",
    "export_call_data",
    "job_folder",
]
