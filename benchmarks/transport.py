"""Transport benchmark: iovox-async against raw aiohttp and raw httpx on loopback.

Run it from the project root, inside the venv::

    python benchmarks/transport.py              # concurrency 1..1000, median of 3 rounds
    python benchmarks/transport.py --quick      # smoke run (one round), about 15 s
    python benchmarks/transport.py --concurrency 500,1000 --repeat 5 --json results.json
    python benchmarks/transport.py --clients "iovox,raw aiohttp+ET" --concurrency 1000

A server in a separate process (``benchmarks/_server.py``, 127.0.0.1 only, listen
backlog 4096, one timer per request so it costs a fraction of any client) answers
every request after 50 ms with a small XML page (one row). Every client talks to
that same server. At each concurrency C the same number of calls goes through each
client, C worker tasks pulling from a shared counter:

* ``iovox``          -- ``AsyncIovox.request("Calls", "getCallData")``, default transport
                        (one aiohttp session driven directly), XML decoded;
* ``raw aiohttp``    -- one ``aiohttp.ClientSession``, ``TCPConnector(limit=C)``, a
                        semaphore, the body read but not parsed (the baseline);
* ``raw aiohttp+ET`` -- the same, and each body parsed with ``ElementTree.fromstring``:
                        the fair baseline, since iovox decodes every body too;
* ``raw httpx``      -- ``httpx.AsyncClient`` with its native transport,
                        ``max_connections=C``, the body read but not parsed;
* ``iovox[httpx]``   -- ``AsyncIovox(..., transport="httpx")``;
* ``iovox typed``    -- ``await iovox.calls.get_call_data()``: the generated method,
                        its arguments checked and its answer converted to ints.

Each run has its own event loop and client, warmed up (C calls, so its pool holds C
open connections) before timing. At concurrency 1 only N/10 calls (at least 50) are
made; at high concurrency at least 20 x C. "ideal" is ``calls x 0.05 / C``; CPU is
``time.process_time()`` of this process only; "server us" is the server process's
CPU per call (from /proc). At high concurrency every client is CPU-bound (C / 50 ms
is more calls per second than any of them can make on one core), so wall time
there measures CPU per call too, and shares the machine with whatever else runs.

Rounds: ``--repeat R`` (default 3; 1 with ``--quick``) runs every client R times,
interleaved, the first client moving on by one each round. A cell shows the median
of its runs; a ratio is the median, over rounds, of the ratio within the round, so
a change in the machine's load between rounds does not favour anyone.

The targets: at concurrency 100, iovox's wall time at most 1.10x raw aiohttp's and
its CPU per call at most 2x; at concurrency 500 and 1000, against the fair baseline
(raw aiohttp+ET), wall at most 1.2x and CPU per call at most 1.5x. The exit status
is 1 when a target that was run fails or any call failed, else 0.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import platform
import statistics
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from _server import RunningServer, running_server

from iovox_async import AsyncIovox

DELAY = 0.05
"""Seconds the server waits before answering each request."""
HEADERS = {"username": "user", "secureKey": "key"}
PARAMS = {"v": "3", "method": "getCallData"}
BASELINE = "raw aiohttp"
FAIR_BASELINE = "raw aiohttp+ET"
SUBJECT = "iovox"


@dataclass(frozen=True)
class Target:
    concurrency: int
    baseline: str
    wall_limit: float
    cpu_limit: float


TARGETS = (
    Target(100, BASELINE, 1.10, 2.0),
    Target(500, FAIR_BASELINE, 1.2, 1.5),
    Target(1000, FAIR_BASELINE, 1.2, 1.5),
)

Call = Callable[[], Awaitable[Any]]
ClientFactory = Callable[[str, int], AbstractAsyncContextManager[Call]]


# -- the four clients -------------------------------------------------------------------


def _check_xml_body(body: bytes) -> None:
    if b"<total_results>1</total_results>" not in body:
        raise AssertionError(f"unexpected body: {body[:120]!r}")


def _check_decoded(result: Any) -> None:
    if not isinstance(result, dict) or result.get("total_results") != "1":
        raise AssertionError(f"unexpected decoded result: {result!r}")


@asynccontextmanager
async def _iovox(
    base_url: str, concurrency: int, transport: str, typed: bool = False
) -> AsyncIterator[Call]:
    client = AsyncIovox(
        "user",
        "key",
        base_url=base_url,
        max_concurrency=concurrency,
        max_retries=0,
        transport=transport,  # type: ignore[arg-type]
    )

    async def call() -> Any:
        result = await client.request("Calls", "getCallData")
        return result

    async def typed_call() -> Any:
        return await client.calls.get_call_data()

    try:
        if typed:
            page = await typed_call()
            if page.get("total_results") != 1:
                raise AssertionError(f"unexpected typed result: {page!r}")
            yield typed_call
        else:
            _check_decoded(await call())
            yield call
    finally:
        await client.aclose()


def iovox_default(base_url: str, concurrency: int) -> AbstractAsyncContextManager[Call]:
    return _iovox(base_url, concurrency, "auto")


def iovox_typed(base_url: str, concurrency: int) -> AbstractAsyncContextManager[Call]:
    return _iovox(base_url, concurrency, "auto", typed=True)


def iovox_httpx(base_url: str, concurrency: int) -> AbstractAsyncContextManager[Call]:
    return _iovox(base_url, concurrency, "httpx")


@asynccontextmanager
async def raw_aiohttp(base_url: str, concurrency: int, parse: bool = False) -> AsyncIterator[Call]:
    url = f"{base_url}/Calls"
    semaphore = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def call() -> bytes:
            async with (
                semaphore,
                session.get(url, params=PARAMS, headers=HEADERS) as response,
            ):
                response.raise_for_status()
                body = await response.read()
            if parse:
                ET.fromstring(body)
            return body

        _check_xml_body(await call())
        yield call


def raw_aiohttp_parsing(base_url: str, concurrency: int) -> AbstractAsyncContextManager[Call]:
    return raw_aiohttp(base_url, concurrency, parse=True)


@asynccontextmanager
async def raw_httpx(base_url: str, concurrency: int) -> AsyncIterator[Call]:
    url = f"{base_url}/Calls"
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30.0) as client:

        async def call() -> bytes:
            response = await client.get(url, params=PARAMS, headers=HEADERS)
            response.raise_for_status()
            return response.content

        _check_xml_body(await call())
        yield call


CLIENTS: dict[str, ClientFactory] = {
    SUBJECT: iovox_default,
    BASELINE: raw_aiohttp,
    FAIR_BASELINE: raw_aiohttp_parsing,
    "raw httpx": raw_httpx,
    "iovox[httpx]": iovox_httpx,
    "iovox typed": iovox_typed,
}


# -- measuring --------------------------------------------------------------------------


@dataclass
class Result:
    concurrency: int
    client: str
    calls: int
    wall_s: float
    ideal_s: float
    cpu_us_per_call: float
    errors: int = 0
    first_error: str | None = None
    server_cpu_us_per_call: float | None = None
    """The benchmark server's CPU per call (its own process), where /proc tells."""
    wall_vs_baseline: float | None = None
    cpu_vs_baseline: float | None = None
    wall_vs_fair: float | None = None
    cpu_vs_fair: float | None = None

    @property
    def wall_over_ideal(self) -> float:
        return self.wall_s / self.ideal_s


async def drive(call: Call, calls: int, concurrency: int) -> tuple[int, str | None]:
    """Make ``calls`` calls from ``concurrency`` tasks; return (errors, first error)."""
    remaining = calls
    errors = 0
    first_error: str | None = None

    async def worker() -> None:
        nonlocal remaining, errors, first_error
        while remaining > 0:
            remaining -= 1
            try:
                await call()
            except Exception as exc:  # count and keep going: the table shows it
                errors += 1
                first_error = first_error or f"{type(exc).__name__}: {exc}"

    await asyncio.gather(*(worker() for _ in range(min(concurrency, calls))))
    return errors, first_error


def calls_for(concurrency: int, n: int) -> int:
    """At concurrency 1 a tenth of the calls (at least 50), else ``n`` (at least 20 x C)."""
    return max(50, n // 10) if concurrency == 1 else max(n, 20 * concurrency)


async def measure(
    name: str, factory: ClientFactory, server: RunningServer, concurrency: int, calls: int
) -> Result:
    ideal = calls * DELAY / concurrency
    async with factory(f"http://127.0.0.1:{server.port}", concurrency) as call:
        await drive(call, concurrency, concurrency)  # warm-up: fill the pool
        gc.collect()
        server_start = server.cpu_seconds()
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        try:
            errors, first_error = await asyncio.wait_for(
                drive(call, calls, concurrency), timeout=max(60.0, 20 * ideal)
            )
        except asyncio.TimeoutError:
            errors, first_error = calls, "timed out"
        wall = time.perf_counter() - wall_start
        cpu = time.process_time() - cpu_start
        server_end = server.cpu_seconds()
    server_cpu = (
        None
        if server_start is None or server_end is None
        else (server_end - server_start) / calls * 1e6
    )
    return Result(
        concurrency=concurrency,
        client=name,
        calls=calls,
        wall_s=wall,
        ideal_s=ideal,
        cpu_us_per_call=cpu / calls * 1e6,
        errors=errors,
        first_error=first_error,
        server_cpu_us_per_call=server_cpu,
    )


def paired_ratios(subject: list[Result], base: list[Result]) -> tuple[float, float]:
    """Wall and CPU/call of ``subject`` over ``base``: the median of the ratios within
    each round (runs minutes apart never share a ratio, so slow drifts in the
    machine's load cancel out)."""
    walls = [s.wall_s / b.wall_s for s, b in zip(subject, base, strict=True)]
    cpus = [s.cpu_us_per_call / b.cpu_us_per_call for s, b in zip(subject, base, strict=True)]
    return statistics.median(walls), statistics.median(cpus)


def add_ratios(result: Result, runs: dict[str, list[Result]]) -> None:
    """Fill ``result``'s ratios against both baselines, where they were run."""
    subject = runs[result.client]
    if BASELINE in runs:
        result.wall_vs_baseline, result.cpu_vs_baseline = paired_ratios(subject, runs[BASELINE])
    if FAIR_BASELINE in runs:
        result.wall_vs_fair, result.cpu_vs_fair = paired_ratios(subject, runs[FAIR_BASELINE])


def median_of(runs: list[Result]) -> Result:
    """One result from repeated runs: median wall and CPU, errors summed."""
    first = runs[0]
    return Result(
        concurrency=first.concurrency,
        client=first.client,
        calls=first.calls,
        wall_s=statistics.median(r.wall_s for r in runs),
        ideal_s=first.ideal_s,
        cpu_us_per_call=statistics.median(r.cpu_us_per_call for r in runs),
        errors=sum(r.errors for r in runs),
        first_error=next((r.first_error for r in runs if r.first_error), None),
        server_cpu_us_per_call=_median_or_none([r.server_cpu_us_per_call for r in runs]),
    )


def _median_or_none(values: list[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return statistics.median(known) if known else None


def turns(names: Sequence[str], rounds: int) -> list[str]:
    """The order clients run in: every round each client once, the starting client
    moving on by one each round, so none always runs first or after the same one."""
    order: list[str] = []
    for round_ in range(rounds):
        shift = round_ % len(names)
        order += [*names[shift:], *names[:shift]]
    return order


def run_all(
    server: RunningServer,
    n: int,
    concurrencies: Sequence[int],
    repeat: int = 1,
    clients: Sequence[str] | None = None,
) -> list[Result]:
    """Every client at every concurrency, each run in a fresh event loop.

    With ``repeat`` > 1 the clients take turns (so drift in machine load hits all
    alike, see :func:`turns`); each cell reports the median of its runs and each
    ratio the median of the ratios within a round (:func:`paired_ratios`).
    """
    chosen = {name: CLIENTS[name] for name in (clients or CLIENTS)}
    results: list[Result] = []
    for concurrency in concurrencies:
        calls = calls_for(concurrency, n)
        runs: dict[str, list[Result]] = {name: [] for name in chosen}
        for name in turns(list(chosen), repeat):
            print(f"  C={concurrency:<4} {name:<15} {calls} calls ...", end="", flush=True)
            result = asyncio.run(measure(name, chosen[name], server, concurrency, calls))
            print(f" {result.wall_s:.2f} s, {result.cpu_us_per_call:.0f} us CPU/call", flush=True)
            runs[name].append(result)
        for name in chosen:
            result = median_of(runs[name])
            add_ratios(result, runs)
            results.append(result)
    return results


# -- reporting --------------------------------------------------------------------------


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def format_table(results: list[Result]) -> str:
    header = (
        f"{'conc':>5}  {'client':<15} {'calls':>6} {'wall s':>8} {'ideal s':>8} "
        f"{'wall/ideal':>10} {'CPU/call us':>12} {'server us':>9}"
        f" {'wall vs aio':>11} {'CPU vs aio':>10}"
        f" {'wall vs +ET':>11} {'CPU vs +ET':>10}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        line = (
            f"{r.concurrency:>5}  {r.client:<15} {r.calls:>6} {r.wall_s:>8.2f} "
            f"{r.ideal_s:>8.2f} {r.wall_over_ideal:>10.2f} {r.cpu_us_per_call:>12.0f} "
            f"{_number(r.server_cpu_us_per_call):>9} "
            f"{_ratio(r.wall_vs_baseline):>11} {_ratio(r.cpu_vs_baseline):>10}"
            f" {_ratio(r.wall_vs_fair):>11} {_ratio(r.cpu_vs_fair):>10}"
        )
        if r.errors:
            line += f"  ERRORS {r.errors}: {r.first_error}"
        lines.append(line)
    return "\n".join(lines)


def target_check(results: list[Result]) -> list[dict[str, Any]]:
    """Each target whose concurrency was run, with its ratios and verdicts."""
    checks = []
    for target in TARGETS:
        subject = next(
            (r for r in results if r.concurrency == target.concurrency and r.client == SUBJECT),
            None,
        )
        if subject is None:
            continue
        fair = target.baseline == FAIR_BASELINE
        wall = subject.wall_vs_fair if fair else subject.wall_vs_baseline
        cpu = subject.cpu_vs_fair if fair else subject.cpu_vs_baseline
        if wall is None or cpu is None:
            continue
        checks.append(
            {
                "concurrency": target.concurrency,
                "baseline": target.baseline,
                "wall_ratio": wall,
                "wall_limit": target.wall_limit,
                "wall_pass": wall <= target.wall_limit and not subject.errors,
                "cpu_ratio": cpu,
                "cpu_limit": target.cpu_limit,
                "cpu_pass": cpu <= target.cpu_limit and not subject.errors,
            }
        )
    return checks


def format_check(checks: list[dict[str, Any]]) -> str:
    if not checks:
        wanted = ", ".join(str(t.concurrency) for t in TARGETS)
        return f"Target checks skipped: none of the concurrencies {wanted} was run."

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    lines = []
    for check in checks:
        lines += [
            f"Target at concurrency {check['concurrency']} ({SUBJECT} vs {check['baseline']}):",
            f"  {verdict(check['wall_pass'])}  wall      ratio {check['wall_ratio']:.2f}"
            f" (limit {check['wall_limit']:.2f})",
            f"  {verdict(check['cpu_pass'])}  CPU/call  ratio {check['cpu_ratio']:.2f}"
            f" (limit {check['cpu_limit']:.2f})",
        ]
    return "\n".join(lines)


def environment() -> dict[str, str]:
    packages = ("iovox-async", "httpx", "aiohttp", "anyio", "tenacity")
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        **{name: version(name) for name in packages},
    }


def write_json(path: Path, args: argparse.Namespace, results: list[Result]) -> None:
    document = {
        "settings": {
            "n": args.n,
            "concurrency": args.concurrency,
            "repeat": args.repeat,
            "delay_s": DELAY,
        },
        "environment": environment(),
        "results": [{**asdict(r), "wall_over_ideal": r.wall_over_ideal} for r in results],
        "targets": target_check(results),
    }
    path.write_text(json.dumps(document, indent=2) + "\n")


# -- command line -----------------------------------------------------------------------


def _concurrencies(text: str) -> list[int]:
    values = [int(part) for part in text.split(",") if part.strip()]
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("give positive integers, e.g. 1,10,100,200")
    return values


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=None, help="calls per run (default 2000)")
    parser.add_argument(
        "--concurrency",
        type=_concurrencies,
        default=None,
        help="comma-separated concurrencies (default 1,10,100,200,500,1000)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: --n 200 --concurrency 10,100"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="interleaved rounds, medians reported (default 3; 1 with --quick)",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results here")
    parser.add_argument(
        "--clients",
        type=lambda text: [name.strip() for name in text.split(",") if name.strip()],
        default=None,
        help=f"comma-separated subset of: {', '.join(CLIENTS)} (default all)",
    )
    args = parser.parse_args(argv)
    quick_n, quick_c = 200, [10, 100]
    full_n, full_c = 2000, [1, 10, 100, 200, 500, 1000]
    args.n = args.n or (quick_n if args.quick else full_n)
    args.concurrency = args.concurrency or (quick_c if args.quick else full_c)
    args.repeat = args.repeat or (1 if args.quick else 3)
    if args.n < 1 or args.repeat < 1:
        parser.error("--n and --repeat must be at least 1")
    unknown = sorted(set(args.clients or ()) - set(CLIENTS))
    if unknown:
        parser.error(f"unknown client(s) {', '.join(unknown)}; choose from {', '.join(CLIENTS)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    print(
        f"{len(args.clients or CLIENTS)} clients x concurrency {args.concurrency}, n={args.n}, "
        f"repeat {args.repeat}, "
        f"server delay {DELAY * 1000:.0f} ms, Python {platform.python_version()}"
    )
    with running_server(DELAY) as server:
        results = run_all(server, args.n, args.concurrency, args.repeat, args.clients)
    print()
    print(format_table(results))
    print()
    checks = target_check(results)
    print(format_check(checks))
    if args.json:
        write_json(args.json, args, results)
        print(f"\nResults written to {args.json}")
    failed = any(not (check["wall_pass"] and check["cpu_pass"]) for check in checks)
    return 1 if failed or any(r.errors for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
