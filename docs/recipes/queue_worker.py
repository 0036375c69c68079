"""A queue worker: jobs go through an asyncio.Queue to a few workers sharing one client.

SIGTERM (or Ctrl-C) stops it gracefully: no new job starts, the jobs in flight finish,
and the jobs still queued are printed as ``not started`` so none is lost. Here a job
is a node id whose details are looked up; ``python queue_worker.py jobs.txt`` reads one
job per line.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator, Iterable

from iovox_async import AsyncIovox, IovoxError

WORKERS = 4


async def handle(iovox: AsyncIovox, node_id: str) -> str:
    """One job: look a node up."""
    page = await iovox.nodes.get_node_details(node_id=node_id)
    (node,) = page["results"]["result"]
    return f"done {node_id}: {node['node_name']}"


async def work(iovox: AsyncIovox, queue: asyncio.Queue[str | None]) -> None:
    while (job := await queue.get()) is not None:
        print(f"start {job}", flush=True)
        try:
            print(await handle(iovox, job), flush=True)
        except IovoxError as error:  # one bad job does not stop the worker
            print(f"failed {job}: {error}", flush=True)


async def feed(jobs: AsyncIterator[str], queue: asyncio.Queue[str | None], held: list[str]) -> None:
    async for job in jobs:
        held.append(job)  # taken from the source, not yet queued
        await queue.put(job)
        held.clear()


async def run(jobs: AsyncIterator[str], workers: int = WORKERS) -> list[str]:
    """Work through ``jobs`` until they run out or SIGTERM; return the jobs not started."""
    queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=workers)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with AsyncIovox() as iovox:  # one client for every worker and job
        crew = [asyncio.create_task(work(iovox, queue)) for _ in range(workers)]
        held: list[str] = []
        feeder = asyncio.create_task(feed(jobs, queue, held))
        stopping = asyncio.create_task(stop.wait())
        # Until the jobs run out, SIGTERM comes, or a worker dies of a bug.
        await asyncio.wait({feeder, stopping, *crew}, return_when=asyncio.FIRST_COMPLETED)
        feeder.cancel()
        stopping.cancel()
        await asyncio.gather(feeder, stopping, return_exceptions=True)
        not_started: list[str] = []
        while stop.is_set() and not queue.empty():  # leave queued jobs for the next run
            job = queue.get_nowait()
            if job is not None:
                not_started.append(job)
        not_started += held
        for worker in crew:
            if not worker.done():
                await queue.put(None)  # each worker ends after its current job
        await asyncio.gather(*crew)  # raises a worker's bug, if one had any
    return not_started


async def lines(names: Iterable[str]) -> AsyncIterator[str]:
    for name in names:
        if name.strip():
            yield name.strip()


def main(path: str) -> int:
    with open(path, encoding="utf-8") as source:
        unread = iter(source.readlines())
    left = asyncio.run(run(lines(unread)))
    for job in [*left, *(name.strip() for name in unread if name.strip())]:
        print(f"not started {job}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
