"""The spec is well-formed, complete, and the generated code matches it."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "scripts")]

from codegen import snake_case  # noqa: E402
from spec_loader import SpecError, load_spec  # noqa: E402

from iovox_async._catalog import METHODS  # noqa: E402

SPEC = load_spec()


def test_every_documented_method_is_in_the_spec() -> None:
    assert len(SPEC) == 85
    assert len({item.method.interface for item in SPEC}) == 19


def test_catalog_matches_the_spec() -> None:
    for item in SPEC:
        assert METHODS[item.method.interface][item.method.name] == item.method


def test_generate_check_passes() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_generate_check_detects_a_stale_file(tmp_path: Path) -> None:
    target = ROOT / "iovox_async" / "interfaces" / "countries.py"
    original = target.read_text(encoding="utf-8")
    try:
        target.write_text(original + "\n# hand edit\n", encoding="utf-8")
        result = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "generate.py"), "--check"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 1
        assert "countries.py" in result.stdout
    finally:
        target.write_text(original, encoding="utf-8")


def test_side_effects_are_marked() -> None:
    not_idempotent = {
        f"{i.method.interface}.{i.method.name}" for i in SPEC if not i.method.idempotent
    }
    for name in (
        "Purchase.purchaseVoxNumbers",
        "Calling.initiateCall",
        "SMS.sendSms",
        "Nodes.createNodeFull",
        "SoundFiles.createSoundFiles",
        "Calls.transcribeCallRecording",
    ):
        assert name in not_idempotent
    for item in SPEC:
        if item.method.http != "POST":
            assert item.method.idempotent, item.method.name


def test_purchase_has_a_long_timeout() -> None:
    timeout = METHODS["Purchase"]["purchaseVoxNumbers"].timeout
    assert timeout is not None and timeout >= 120


def test_binary_methods() -> None:
    binary = {i.method.name for i in SPEC if i.method.response_kind == "binary"}
    assert binary == {"getCallRecording", "getVoicemailRecording", "getSoundFileData"}


def test_examples_are_well_formed() -> None:
    for item in SPEC:
        for example in item.response_examples:
            ET.fromstring(example.strip().encode())
        for example in item.payload_examples:
            assert ET.fromstring(example.strip().encode()).tag == "request"


@pytest.mark.parametrize(
    "name,expected",
    [
        ("getCallData", "get_call_data"),
        ("getSoundFileData", "get_sound_file_data"),
        ("attachSMSTemplateToLinks", "attach_sms_template_to_links"),
        ("purchaseVoxNumbers", "purchase_vox_numbers"),
        ("JsApi", "js_api"),
        ("SMS", "sms"),
        ("CallFlow", "call_flow"),
    ],
)
def test_snake_case_rule(name: str, expected: str) -> None:
    assert snake_case(name) == expected


def test_loader_rejects_bad_files(tmp_path: Path) -> None:
    bad = tmp_path / "Bad.yaml"
    bad.write_text(
        "interface: Bad\nsection: X\nmethods:\n  m:\n    http: FETCH\n    summary: s\n"
        "    sources: []\n    confidence: full\n    idempotent: true\n"
        "    response: {kind: xml}\n    errors: []\n",
        encoding="utf-8",
    )
    with pytest.raises(SpecError, match="http"):
        load_spec(tmp_path)
    bad.write_text(
        bad.read_text().replace("FETCH", "GET").replace("confidence: full", "confidence: partial"),
        encoding="utf-8",
    )
    with pytest.raises(SpecError, match="guesses"):
        load_spec(tmp_path)
    bad.write_text(
        bad.read_text().replace("confidence: partial", "confidence: full\n    bogus: 1"),
        encoding="utf-8",
    )
    with pytest.raises(SpecError, match="unknown keys"):
        load_spec(tmp_path)


def test_loader_checks_payload_alternatives(tmp_path: Path) -> None:
    spec = tmp_path / "Alt.yaml"
    base = (
        "interface: Alt\nsection: X\nmethods:\n  m:\n    http: POST\n    summary: s\n"
        "    sources: []\n    confidence: full\n    idempotent: false\n"
        "    payload:\n    - {name: a}\n    - {name: b}\n    - {name: c, required: true}\n"
        "    response: {kind: empty}\n    errors: []\n"
    )
    for one_of in ("[a, z]", "[a]", "[a, c]"):  # unknown, alone, required
        spec.write_text(base + f"    payload_one_of: {one_of}\n", encoding="utf-8")
        with pytest.raises(SpecError, match="payload_one_of"):
            load_spec(tmp_path)
    spec.write_text(base + "    payload_one_of: [a, b]\n", encoding="utf-8")
    (method,) = load_spec(tmp_path)
    assert method.method.payload_one_of == ("a", "b")
