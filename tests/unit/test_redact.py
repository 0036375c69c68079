"""The redaction registry behind logs and CLI messages."""

from __future__ import annotations

from iovox_async._redact import REDACTED, redact, register_secret


def test_registered_key_is_replaced_everywhere() -> None:
    register_secret("s3cr3t-key-for-redact-test")
    text = "url?k=s3cr3t-key-for-redact-test and again s3cr3t-key-for-redact-test"
    assert redact(text) == f"url?k={REDACTED} and again {REDACTED}"


def test_very_short_keys_are_not_registered() -> None:
    register_secret("ab")
    register_secret("")
    assert redact("abc ab about") == "abc ab about"
