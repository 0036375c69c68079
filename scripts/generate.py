"""Generate ``iovox_async/interfaces/`` from ``spec/``.

    python scripts/generate.py          # write the generated modules
    python scripts/generate.py --check  # exit 1 if any generated file is out of date

Writes ``_catalog.py`` (every method's runtime spec), one module per interface with
typed coroutines, and ``__init__.py`` (the interface attributes of the client).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from codegen import render_all  # noqa: E402
from spec_loader import load_spec  # noqa: E402

OUTPUT_DIR = ROOT / "iovox_async" / "interfaces"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if generated files are stale")
    args = parser.parse_args(argv)
    files = render_all(load_spec())
    stale = []
    for name, text in sorted(files.items()):
        path = OUTPUT_DIR / name
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            stale.append(name)
            if not args.check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    extra = (
        sorted(p.name for p in OUTPUT_DIR.glob("*.py") if p.name not in files)
        if OUTPUT_DIR.exists()
        else []
    )
    if args.check:
        if stale or extra:
            for name in stale:
                print(f"out of date: iovox_async/interfaces/{name}")
            for name in extra:
                print(f"not generated from the spec: iovox_async/interfaces/{name}")
            print("run: python scripts/generate.py")
            return 1
        print(f"generated code is up to date ({len(files)} files)")
        return 0
    for name in extra:
        (OUTPUT_DIR / name).unlink()
    print(f"wrote {len(stale)} of {len(files)} files; removed {len(extra)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
