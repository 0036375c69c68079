"""Generate ``iovox_async/interfaces/`` and ``iovox_async/_catalog.py`` from ``spec/``.

    python scripts/generate.py          # write the generated modules
    python scripts/generate.py --check  # exit 1 if any generated file is out of date

Writes ``_catalog.py`` (every method's runtime spec, beside ``_spec.py``), one module
per interface with typed coroutines and their response ``TypedDict``s, and
``interfaces/__init__.py`` (the interface attributes of the client). Every file is
formatted with ``ruff format``, so the output reads like the rest of the code.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from codegen import render_all  # noqa: E402
from spec_loader import load_spec  # noqa: E402

PACKAGE_DIR = ROOT / "iovox_async"
INTERFACES_DIR = PACKAGE_DIR / "interfaces"


def _ruff() -> list[str]:
    """This interpreter's ruff, else the project venv's, else the one on PATH (the dev
    extra installs it)."""
    if importlib.util.find_spec("ruff") is not None:
        return [sys.executable, "-m", "ruff"]
    venv = ROOT / ".venv" / "bin" / "ruff"
    found = str(venv) if venv.exists() else shutil.which("ruff")
    if found is None:
        raise SystemExit(
            "generate.py formats its output with ruff: run it with the project's venv"
            " (.venv/bin/python scripts/generate.py) or install ruff"
        )
    return [found]


def formatted(path: Path, text: str) -> str:
    """``text`` as ``ruff format`` (with the project's settings) would write ``path``."""
    result = subprocess.run(
        [*_ruff(), "format", "--stdin-filename", str(path), "-"],
        input=text,
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if result.returncode != 0:
        raise SystemExit(f"ruff format failed on {path.name}:\n{result.stderr}")
    return result.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if generated files are stale")
    args = parser.parse_args(argv)
    files = {
        PACKAGE_DIR / name: formatted(PACKAGE_DIR / name, text)
        for name, text in render_all(load_spec()).items()
    }
    stale = []
    for path, text in sorted(files.items()):
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            stale.append(path)
            if not args.check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    extra = sorted(p for p in INTERFACES_DIR.glob("*.py") if p not in files)
    if args.check:
        if stale or extra:
            for path in stale:
                print(f"out of date: {path.relative_to(ROOT)}")
            for path in extra:
                print(f"not generated from the spec: {path.relative_to(ROOT)}")
            print("run: python scripts/generate.py")
            return 1
        print(f"generated code is up to date ({len(files)} files)")
        return 0
    for path in extra:
        path.unlink()
    print(f"wrote {len(stale)} of {len(files)} files; removed {len(extra)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
