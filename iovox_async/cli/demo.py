"""``iovox demo``: the whole client against a local emulator with mild faults."""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._common import (
    EXIT_FAILED,
    Subparsers,
    emit,
    latency,
    progress_bar,
    rate,
    report_problems,
    run_command,
    share,
    whole,
)

if TYPE_CHECKING:
    from .._client import AsyncIovox

DEMO_ITEMS = (
    {"country_code": 44, "area_code": 20, "number_type": "GEOGRAPHIC", "quantity": 2},
    {"country_code": 44, "area_code": 161, "number_type": "GEOGRAPHIC", "quantity": 1},
    {"country_code": 34, "area_code": 91, "number_type": "GEOGRAPHIC", "quantity": 1},
)


async def _send_once(
    send: Callable[[], Awaitable[Any]], applied: Callable[[], Awaitable[bool]], attempts: int = 3
) -> str:
    """Send a call with side effects; after an unknown outcome, look before resending."""
    from .._errors import OutcomeUnknownError

    for _ in range(attempts):
        try:
            await send()
            return "ok"
        except OutcomeUnknownError:
            if await applied():
                return "ok (answer lost; reconciled: applied)"
    raise OutcomeUnknownError("demo", "write", "still unknown after checks", "check by hand")


async def _demo_node_and_call(client: AsyncIovox, number: str | None) -> dict[str, Any]:
    """createNodeFull (a node with a click-to-call link), then Calling.initiateCall."""
    flows = await client.call_flow.get_call_flows(limit=1)
    flow_rows = (flows.get("results") or {}).get("result") or []
    template = flow_rows[0]["template_name"] if flow_rows else None
    tag = os.urandom(3).hex().upper()
    node_id, link_id = f"DEMO-{tag}", f"DEMO-{tag}-L1"
    link: dict[str, Any] = {
        "link_id": link_id,
        "link_name": "Demo click-to-call",
        "link_type": "Website",
        "click_to_call": "1",
    }
    if template:
        link["rule_template_name"] = template
    if number:
        link["assign_voxnumber"] = {"method": "BY VOXNUMBER", "full_voxnumber": number}
    node = {"node_id": node_id, "node_name": "Demo shop", "node_type": "Shop"}

    async def node_exists() -> bool:
        from .._errors import APIError

        try:
            await client.nodes.get_node_details(node_id=node_id)
        except APIError as error:
            if error.status == 400:
                return False
            raise
        return True

    async def call_placed() -> bool:
        page = await client.calls.get_call_data(ctype="API", link_id=link_id, sdt="2000-01-01")
        return bool((page.get("results") or {}).get("result"))

    created = await _send_once(
        lambda: client.nodes.create_node_full(node={**node, "links": {"link": [link]}}),  # type: ignore[typeddict-item]
        node_exists,
    )
    placed = await _send_once(
        lambda: client.calling.initiate_call(
            link_id=link_id, call_variables={"call_destination": "447700900123"}
        ),
        call_placed,
    )
    return {
        "node_id": node_id,
        "link_id": link_id,
        "voxnumber": number,
        "call_flow": template,
        "node": created,
        "call": placed,
    }


async def _demo(args: argparse.Namespace) -> int:
    dest = Path(args.dest) if args.dest else Path(tempfile.mkdtemp(prefix="iovox-demo-"))
    try:
        return await _demo_in(args, dest)
    finally:
        if not args.dest and not args.keep:
            shutil.rmtree(dest, ignore_errors=True)


async def _demo_in(args: argparse.Namespace, dest: Path) -> int:
    from ..bulk.numbers import bought
    from ..bulk.recordings import total_bytes
    from ..testing import FaultSettings, FaultSpec, run_emulator

    faults = FaultSettings(
        default=FaultSpec(
            error_rate=args.error_rate, drop_rate=args.drop_rate, latency_ms=args.latency_ms
        ),
        # The first purchase's answer is lost on the way back: reconciliation shows it.
        script={"Purchase.purchaseVoxNumbers": ("drop",)},
    )
    started = time.perf_counter()
    async with run_emulator(calls=args.calls, seed=args.seed, faults=faults) as emulator:
        config = emulator.config
        window: dict[str, Any] = {
            "sdt": f"{config.reference_date - timedelta(days=config.days + 1):%Y-%m-%d}",
            "edt": f"{config.reference_date + timedelta(days=1):%Y-%m-%d}",
        }
        async with emulator.client(max_concurrency=args.max_concurrency) as client:
            bulk = client.bulk
            with progress_bar(args, "Exporting CDRs") as update:
                step = time.perf_counter()
                rows = await bulk.export_call_data(dest / "calls.csv", progress=update, **window)
                export_seconds = time.perf_counter() - step
            with progress_bar(args, "Downloading recordings") as update:
                recordings = await bulk.download_recordings(
                    bulk.iter_call_data(**window),
                    dest / "recordings",
                    concurrency=args.concurrency,
                    progress=update,
                )
            purchases = await bulk.purchase_numbers(DEMO_ITEMS)
            numbers = bought(purchases)
            node = await _demo_node_and_call(client, numbers[0] if numbers else None)
            retries = client.retries_taken
        stats = emulator.stats()
    elapsed = time.perf_counter() - started
    size = total_bytes(recordings)
    faults_seen = sum(sum(kinds.values()) for kinds in stats["faults"].values())
    summary = {
        "dest": str(dest),
        "cdrs": {"rows": rows, "seconds": round(export_seconds, 3),
                 "rows_per_second": round(rate(rows, export_seconds))},
        "recordings": {**recordings.counts, "megabytes": round(size / 1e6, 1),
                       "seconds": round(recordings.elapsed, 3),
                       "megabytes_per_second": round(rate(size / 1e6, recordings.elapsed), 1)},
        "purchases": {**purchases.counts, "numbers": numbers,
                      "reconciled": sum(1 for p in purchases.values() if p.reconciled)},
        "node_and_call": node,
        "requests": stats["total_requests"],
        "faults_injected": faults_seen,
        "retries": retries,
        "seconds": round(elapsed, 2),
    }  # fmt: skip
    lines = [
        f"iovox demo: emulator with {args.calls} calls, {args.error_rate:.0%} 5xx and"
        f" {args.drop_rate:.0%} dropped connections",
        f"  files               {dest}"
        + ("" if args.dest or args.keep else " (temporary, removed; keep with --dest or --keep)"),
        f"  CDRs exported       {rows} rows in {export_seconds:.2f}s"
        f" ({rate(rows, export_seconds):,.0f} rows/s) -> calls.csv",
        f"  recordings          {recordings.summary()}; {size / 1e6:.1f} MB"
        f" ({rate(size / 1e6, recordings.elapsed):,.1f} MB/s)",
        f"  numbers purchased   {purchases.summary()}; {_count(len(numbers), 'number')} bought"
        f"{': ' + ', '.join(numbers) if numbers else ''}"
        f" ({summary['purchases']['reconciled']} reconciled after a lost answer)",
        f"  node and call       node {node['node_id']}: {node['node']};"
        f" click-to-call on {node['link_id']}: {node['call']}",
        f"  requests            {stats['total_requests']} sent, {faults_seen} faults injected,"
        f" {retries} retries taken",
        f"  total               {elapsed:.2f}s",
    ]
    emit(args, summary, lines + report_problems(recordings) + report_problems(purchases))
    return 0 if recordings.all_ok and not purchases.unknown else EXIT_FAILED


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def add_demo_command(subparsers: Subparsers) -> None:
    """``iovox demo``: the whole client against a local emulator with mild faults."""
    demo = subparsers.add_parser(
        "demo",
        help="run the client against a local emulator with faults, and summarise",
        description="Start the emulator on loopback with seed data and mild faults; through"
        " the real client export every CDR, download every recording, buy numbers, create a"
        " node with createNodeFull, place a click-to-call; print a summary.",
    )
    demo.add_argument("--dest", help="folder for the files (default: a temporary folder)")
    demo.add_argument("--keep", action="store_true", help="keep the temporary folder")
    demo.add_argument("--calls", type=whole(0), default=2000, help="seeded calls (default 2000)")
    demo.add_argument("--seed", type=int, default=1, help="seed of data and faults")
    demo.add_argument("--error-rate", type=share, default=0.03, help="share answered 5xx")
    demo.add_argument("--drop-rate", type=share, default=0.01, help="share of dropped answers")
    demo.add_argument(
        "--latency-ms",
        type=latency,
        default=(1.0, 10.0),
        metavar="A[-B]",
        help="added latency per request: fixed A or uniform A-B milliseconds (default 1-10)",
    )
    demo.add_argument("--concurrency", type=whole(1), default=32, help="downloads at once")
    demo.add_argument("--max-concurrency", type=whole(1), default=64, help="requests in flight")
    demo.add_argument("--json", action="store_true", help="print the summary as JSON")
    demo.set_defaults(handler=run_command, iovox_runner=_demo)
