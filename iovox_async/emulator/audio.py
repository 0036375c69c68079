"""Deterministic MP3-like bytes for recordings and sound files.

An ID3v2.4 tag, then MPEG-1 Layer III frame headers (128 kbit/s, 44.1 kHz, 417-byte
frames) over seeded random payload: not playable music, but it looks like an MP3
to anything that sniffs the first bytes, and the same key always gives the same
bytes.
"""

from __future__ import annotations

import random

_FRAME_HEADER = b"\xff\xfb\x90\x64"
_FRAME_SIZE = 417
MIN_RECORDING = 24_000
MAX_RECORDING = 480_000


def _syncsafe(value: int) -> bytes:
    return bytes(((value >> shift) & 0x7F) for shift in (21, 14, 7, 0))


def id3_tag(title: str) -> bytes:
    """A minimal ID3v2.4 tag holding a title frame."""
    text = b"\x03" + title.encode("utf-8")
    frame = b"TIT2" + _syncsafe(len(text)) + b"\x00\x00" + text
    return b"ID3\x04\x00\x00" + _syncsafe(len(frame)) + frame


def sound_bytes(key: str, size: int, title: str = "iovox emulator") -> bytes:
    """``size`` bytes (at least the tag and one frame) derived only from ``key``."""
    tag = id3_tag(title)
    rng = random.Random(key)
    payload_size = _FRAME_SIZE - len(_FRAME_HEADER)
    remaining = max(size - len(tag), _FRAME_SIZE)
    payload = rng.randbytes(remaining)
    chunks = [tag]
    for offset in range(0, remaining, _FRAME_SIZE):
        chunks.append(_FRAME_HEADER)
        chunks.append(payload[offset : offset + payload_size])
    return b"".join(chunks)[:size] if size > len(tag) + _FRAME_SIZE else b"".join(chunks)


def recording_size(talk_seconds: int) -> int:
    """A realistic size for a call recording: tens to hundreds of kilobytes."""
    return max(MIN_RECORDING, min(MAX_RECORDING, 20_000 + 1_000 * talk_seconds))


def recording_bytes(seed: int, call_id: str, talk_seconds: int) -> bytes:
    """The recording of one call: same seed and id, same bytes."""
    return sound_bytes(
        f"{seed}:recording:{call_id}", recording_size(talk_seconds), f"Call recording {call_id}"
    )
