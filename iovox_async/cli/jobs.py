"""``iovox calls export``/``sync``, ``iovox recordings download``, ``iovox numbers purchase``."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import ValidationError
from ..bulk.export import DEFAULT_WINDOW_CONCURRENCY
from ..bulk.recordings import call_id_of, outcome
from ._common import (
    EXIT_FAILED,
    Subparsers,
    connection_options,
    emit,
    make_client,
    parse_filters,
    progress_bar,
    range_filters,
    range_options,
    rate,
    report_problems,
    run_command,
    transfer_progress,
    whole,
)

if TYPE_CHECKING:
    from ..bulk import BulkReport, ItemResult, Recording


# -- calls export -------------------------------------------------------------------


async def _calls_export(args: argparse.Namespace) -> int:
    async with make_client(args) as client:
        started = time.perf_counter()
        with progress_bar(args, "CDRs") as update:
            count = await client.bulk.export_call_data(
                args.path,
                args.format,
                page_size=args.page_size,
                window_rows=args.window_rows,
                concurrency=args.windows,
                resume=args.resume,
                progress=update,
                **range_filters(args),
            )
        elapsed = time.perf_counter() - started
        data = {
            "path": str(args.path),
            "rows": count,
            "seconds": round(elapsed, 3),
            "rows_per_second": round(rate(count, elapsed)),
            "retries": client.retries_taken,
        }
        emit(args, data, [f"exported {count} CDRs to {args.path} in {elapsed:.2f}s"])
    return 0


async def _calls_sync(args: argparse.Namespace) -> int:
    from ..bulk.sync import sync_to_file

    filters: dict[str, Any] = dict(parse_filters(args.filter))
    async with make_client(args) as client:
        started = time.perf_counter()
        result = await sync_to_file(
            client,
            args.path,
            args.state,
            args.format,
            sdt=args.sdt,
            overlap=args.overlap,
            page_size=args.page_size,
            **filters,
        )
        elapsed = time.perf_counter() - started
        data = {
            "path": str(args.path),
            "state": str(args.state),
            "rows": result.rows,
            "high_water": result.checkpoint.high_water,
            "truncated_bytes": result.truncated,
            "seconds": round(elapsed, 3),
            "retries": client.retries_taken,
        }
        lines = [f"appended {result.rows} new CDRs to {args.path} in {elapsed:.2f}s"]
        if result.truncated:
            lines.append(f"  cut {result.truncated} bytes an interrupted run had appended")
        emit(args, data, lines)
    return 0


# -- recordings download ------------------------------------------------------------


def _read_ids(args: argparse.Namespace) -> list[str] | None:
    ids: list[str] = []
    for chunk in args.id:
        ids.extend(part.strip() for part in chunk.split(",") if part.strip())
    if args.ids_file:
        text = Path(args.ids_file).read_text(encoding="utf-8")
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip()  # blank lines and # comments skipped
            if line:
                ids.append(line)
    return ids if (args.id or args.ids_file) else None


async def _recordings_download(args: argparse.Namespace) -> int:
    ids = _read_ids(args)
    ranged = args.sdt or args.edt or args.filter
    if ids is not None and ranged:
        raise ValidationError("give call ids (--id, --ids-file) or a range (--sdt ...), not both")
    if ids is None and not (args.sdt or args.edt):
        # Without a range the API answers the current month: maybe far more than meant.
        raise ValidationError("give call ids (--id, --ids-file) or a range (--sdt, --edt)")
    async with make_client(args) as client:
        bulk = client.bulk
        source: list[Any]
        if ids is None:
            # The CDRs are read first (small: id and flag), so the files to fetch are known.
            source = [
                {"id": row["id"], "has_recording": row.get("has_recording")}
                async for row in bulk.iter_call_data(
                    page_size=args.page_size, **range_filters(args)
                )
            ]
            files = sum(1 for item in source if call_id_of(item)[1] is None)
        else:
            source, files = list(ids), len(ids)
        with transfer_progress(args, "recordings", files) as advance:

            def on_result(result: ItemResult[Recording]) -> None:
                if outcome(result) in ("downloaded", "already_on_disk", "failed", "unknown"):
                    advance(result.value.size if result.status == "ok" and result.value else 0)

            report = await bulk.download_recordings(
                source,
                args.dest,
                concurrency=args.concurrency,
                overwrite=args.overwrite,
                resume=args.resume,
                on_result=on_result,
            )
        return _print_downloads(args, report, client.retries_taken)


_SHOWN_FAILURES = 10


def _print_downloads(args: argparse.Namespace, report: BulkReport[Any], retries: int) -> int:
    from ..bulk.recordings import recording_counts, total_bytes

    size = total_bytes(report)
    counts = recording_counts(report)
    failures = [
        {"call_id": r.item, "status": r.status, "reason": r.reason}
        for r in report.results
        if r.status in ("failed", "unknown")
    ]
    data: dict[str, Any] = {
        "dest": str(args.dest),
        "counts": counts,
        "bytes": size,
        "seconds": round(report.elapsed, 3),
        "megabytes_per_second": round(rate(size / 1e6, report.elapsed), 2),
        "retries": retries,
        "failures": failures,
    }
    if args.verbose:
        data["items"] = [
            {"call_id": r.item, "outcome": outcome(r), **({"reason": r.reason} if r.reason else {})}
            | ({"path": str(r.value.path), "size": r.value.size} if r.value else {})
            for r in report.results
        ]
    parts = [f"{counts['downloaded']} downloaded ({size / 1e6:.1f} MB)"]
    labels = {
        "already_on_disk": "already on disk",
        "no_recording": "without a recording",
        "duplicate": "repeated",
        "failed": "failed",
        "unknown": "unknown",
    }
    parts += [f"{counts[key]} {label}" for key, label in labels.items() if counts[key]]
    lines = [f"recordings: {', '.join(parts)} in {report.elapsed:.2f}s into {args.dest}"]
    lines += [f"  {f['status']}: {f['call_id']}: {f['reason']}" for f in failures[:_SHOWN_FAILURES]]
    if len(failures) > _SHOWN_FAILURES:
        lines.append(f"  ... and {len(failures) - _SHOWN_FAILURES} more (all of them with --json)")
    emit(args, data, lines)
    return 0 if report.all_ok else EXIT_FAILED


# -- numbers purchase ---------------------------------------------------------------


def _items(args: argparse.Namespace) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for spec in args.item:
        item: dict[str, Any] = {}
        for pair in spec.split(","):
            name, sep, value = pair.partition("=")
            if not sep:
                raise ValidationError(f"--item takes NAME=VALUE,NAME=VALUE, got {spec!r}")
            item[name.strip()] = value.strip()
        items.append(item)
    if args.items_file:
        loaded = json.loads(Path(args.items_file).read_text(encoding="utf-8"))
        if not isinstance(loaded, list) or not all(isinstance(i, dict) for i in loaded):
            raise ValidationError("--items-file must hold a JSON list of objects")
        items.extend(loaded)
    if not items:
        raise ValidationError("nothing to buy: give --item or --items-file")
    return items


async def _numbers_purchase(args: argparse.Namespace) -> int:
    items = _items(args)
    async with make_client(args) as client:
        report = await client.bulk.purchase_numbers(
            items,
            dry_run=args.dry_run,
            callback_url=args.callback_url,
            dynamic_quantity=True if args.dynamic_quantity else None,
        )
        return _print_purchases(args, report)


def _print_purchases(args: argparse.Namespace, report: BulkReport[Any]) -> int:
    from ..bulk.numbers import bought, describe_item

    numbers = bought(report)
    data = {**report.to_dict(), "bought": numbers, "dry_run": bool(args.dry_run)}
    lines = [f"purchases: {report.summary()}; {len(numbers)} numbers bought"]
    for purchase in report.values():
        wanted = int(purchase.item.get("quantity") or 0)
        order = f"order {purchase.order_reference or '(no reference)'}"
        status = purchase.order_status or "no status"
        short = (
            f"; {len(purchase.numbers)} of {wanted} so far"
            if len(purchase.numbers) < wanted
            else ""
        )
        lines.append(f"  {order} {status}{short}: {describe_item(purchase.item)}")
    lines += [f"  {n}" for n in numbers[:_LISTED_NUMBERS]]
    if len(numbers) > _LISTED_NUMBERS:
        lines.append(f"  ... and {len(numbers) - _LISTED_NUMBERS} more (all of them with --json)")
    lines += [f"  {r.reason}" for r in report.skipped]
    emit(args, data, lines + report_problems(report))
    return 0 if report.all_ok else EXIT_FAILED


_LISTED_NUMBERS = 20


# -- registration ---------------------------------------------------------------------


def add_job_commands(subparsers: Subparsers) -> None:
    """Register ``calls export``, ``recordings download`` and ``numbers purchase``."""
    common = connection_options()

    calls = subparsers.add_parser("calls", help="call detail records")
    calls_sub = calls.add_subparsers(dest="calls_command", metavar="COMMAND", required=True)
    export = calls_sub.add_parser(
        "export", parents=[common], help="export every CDR of a range to CSV or JSON lines"
    )
    export.add_argument("path", type=Path, help="output file (.csv, .jsonl)")
    export.add_argument("--format", choices=["csv", "jsonl"], help="default: from the suffix")
    export.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted export of PATH (its PATH.parts/ folder)",
    )
    export.add_argument(
        "--window-rows", type=whole(1), default=50_000, help="calls per window at most"
    )
    export.add_argument(
        "--windows",
        type=whole(1),
        default=DEFAULT_WINDOW_CONCURRENCY,
        help="windows read at once (more than one: the others into part files, copied in"
        " at the end)",
    )
    range_options(export)
    export.set_defaults(handler=run_command, iovox_runner=_calls_export)

    sync = calls_sub.add_parser(
        "sync", parents=[common], help="append the CDRs that are new since the last sync"
    )
    sync.add_argument("path", type=Path, help="file the new CDRs are appended to (.csv, .jsonl)")
    sync.add_argument("--state", type=Path, required=True, help="JSON file with the checkpoint")
    sync.add_argument("--format", choices=["csv", "jsonl"], help="default: from the suffix")
    sync.add_argument("--sdt", help="where the first sync starts (YYYY-MM-DD[ HH:MM:SS])")
    sync.add_argument(
        "--overlap",
        type=whole(0),
        help="seconds looked back for CDRs listed late (default 3600; kept in the state)",
    )
    sync.add_argument(
        "--filter", action="append", default=[], metavar="NAME=VALUE", help="getCallData filter"
    )
    sync.add_argument(
        "--page-size", type=whole(1, 20000), default=5000, help="rows per page (1-20000)"
    )
    sync.set_defaults(handler=run_command, iovox_runner=_calls_sync)

    recordings = subparsers.add_parser("recordings", help="call recordings")
    rec_sub = recordings.add_subparsers(dest="recordings_command", metavar="COMMAND", required=True)
    download = rec_sub.add_parser(
        "download",
        parents=[common],
        help="download recordings (by id, or of every recorded call in a range)",
    )
    download.add_argument("dest", type=Path, help="folder for the .mp3 files")
    download.add_argument("--id", action="append", default=[], help="call id(s), comma separated")
    download.add_argument("--ids-file", help="a file with one call id per line")
    download.add_argument("--concurrency", type=whole(1), default=16, help="downloads at once")
    download.add_argument("--overwrite", action="store_true", help="download existing files again")
    download.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted download: remove its temporary files first",
    )
    download.add_argument(
        "--verbose", action="store_true", help="with --json, list every item, not only failures"
    )
    range_options(download)
    download.set_defaults(handler=run_command, iovox_runner=_recordings_download)

    numbers = subparsers.add_parser("numbers", help="VoxNumbers")
    num_sub = numbers.add_subparsers(dest="numbers_command", metavar="COMMAND", required=True)
    purchase = num_sub.add_parser(
        "purchase", parents=[common], help="buy VoxNumbers (each item once; --dry-run first)"
    )
    purchase.add_argument(
        "--item",
        action="append",
        default=[],
        metavar="country_code=44,area_code=151,number_type=GEOGRAPHIC,quantity=1",
        help="one basket item (repeatable)",
    )
    purchase.add_argument("--items-file", help="a JSON list of basket items")
    purchase.add_argument("--dry-run", action="store_true", help="validate and report only")
    purchase.add_argument("--callback-url", help="URL told about orders filled later")
    purchase.add_argument("--dynamic-quantity", action="store_true", help="buy what is in stock")
    purchase.set_defaults(handler=run_command, iovox_runner=_numbers_purchase)
