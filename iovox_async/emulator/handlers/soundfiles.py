"""Sound files (base64 upload, listing, binary download, update, delete) and countries."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from ..protocol import Reply
from ..state import SoundFile
from .base import Context, fail, handles, select, sort_records, text_of

SOUND_FIELDS = {
    "id": "sound_id",
    "sl": "sound_label",
    "sg": "sound_group",
    "cl": "content_length",
    "c": "created",
    "u": "updated",
    "n": "notes",
}
MAX_SOUND_BYTES = 10 * 1024 * 1024
FORBIDDEN_GROUPS = frozenset({"system"})
COUNTRIES = (
    ("44", "UNITED KINGDOM"),
    ("33", "FRANCE"),
    ("34", "SPAIN"),
    ("49", "GERMANY"),
    ("1", "UNITED STATES"),
    ("39", "ITALY"),
    ("353", "IRELAND"),
    ("31", "NETHERLANDS"),
    ("32", "BELGIUM"),
    ("41", "SWITZERLAND"),
    ("61", "AUSTRALIA"),
)


def _record(sound: SoundFile) -> dict[str, str]:
    return {
        "sound_id": sound.sound_id,
        "sound_label": sound.label,
        "sound_group": sound.group,
        "content_length": str(len(sound.data)),
        "created": sound.created,
        "updated": sound.updated,
        "notes": sound.notes,
    }


@handles("SoundFiles.getSoundFiles")
def get_sound_files(ctx: Context) -> Reply:
    """Uploaded sound files, filtered by label and group."""
    label, group = ctx.param("sound_label"), ctx.param("sound_group")
    records = [
        _record(sound)
        for sound in ctx.state.sound_files.values()
        if (label is None or sound.label == label) and (group is None or sound.group == group)
    ]
    records.sort(key=lambda record: int(record["sound_id"]))
    records = sort_records(records, ctx.order(), SOUND_FIELDS)
    fields = ctx.req_fields()
    return ctx.page([select(record, fields, SOUND_FIELDS) for record in records])


def _find(ctx: Context, label: str, group: str) -> SoundFile | None:
    if group:
        return ctx.state.sound_files.get((label, group))
    matches = [sound for (name, _), sound in ctx.state.sound_files.items() if name == label]
    return matches[0] if matches else None


@handles("SoundFiles.getSoundFileData")
def get_sound_file_data(ctx: Context) -> Reply:
    """The audio bytes as uploaded."""
    sound = _find(ctx, ctx.param("sound_label") or "", ctx.param("sound_group") or "")
    if sound is None:
        raise fail("Sound File does not exist")
    return ctx.binary(sound.data)


def _decode(text: str) -> bytes | None:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return None


def _sound_items(ctx: Context) -> list[dict[str, Any]]:
    return [item for item in ctx.items("sound_file") if isinstance(item, dict)]


@handles("SoundFiles.createSoundFiles")
def create_sound_files(ctx: Context) -> Reply:
    """Upload sound files (base64 inside the XML); labels are unique per group."""
    items = _sound_items(ctx)
    errors = []
    seen: set[tuple[str, str]] = set()
    decoded: list[bytes] = []
    for position, item in enumerate(items, start=1):
        where = f"{position} of {len(items)}"
        label, group = ctx.text("sound_label", item), ctx.text("sound_group", item)
        key = (label, group)
        if key in seen:
            errors.append("Duplicate Sound File Received")
        seen.add(key)
        if key in ctx.state.sound_files:
            errors.append(f"Sound Label {where} already exists in Sound Group")
        if group.lower() in FORBIDDEN_GROUPS:
            errors.append(f"Sound Group {where} Forbidden")
        data = _decode(text_of(item.get("sound_file")))
        if not data:
            errors.append(f"Sound File {where} Empty")
        elif len(data) > MAX_SOUND_BYTES:
            errors.append(f"Sound File {where} Exceeds maximum allowed filesize")
        decoded.append(data or b"")
    if errors:
        raise fail(*errors)
    for item, data in zip(items, decoded, strict=True):
        when = ctx.now()
        sound = SoundFile(
            sound_id=str(ctx.state.next_id("sound_file")),
            label=ctx.text("sound_label", item),
            group=ctx.text("sound_group", item),
            data=data,
            notes=ctx.text("notes", item),
            created=when,
            updated=when,
        )
        ctx.state.sound_files[(sound.label, sound.group)] = sound
    return ctx.done()


@handles("SoundFiles.updateSoundFiles")
def update_sound_files(ctx: Context) -> Reply:
    """Rename, regroup, replace or re-note sound files."""
    items = _sound_items(ctx)
    errors = []
    found: list[SoundFile] = []
    seen: set[tuple[str, str]] = set()
    for position, item in enumerate(items, start=1):
        where = f"{position} of {len(items)}"
        key = (ctx.text("sound_label", item), ctx.text("sound_group", item))
        if key in seen:
            errors.append("Duplicate Sound File Received")
        seen.add(key)
        sound = ctx.state.sound_files.get(key)
        if sound is None:
            errors.append(f"Sound File {where} Does not exist")
            continue
        if ctx.text("new_sound_group", item).lower() in FORBIDDEN_GROUPS:
            errors.append(f"Sound Group {where} Forbidden")
        replacement = (
            _decode(ctx.text("sound_file", item)) if ctx.text("sound_file", item) else None
        )
        if replacement is not None and len(replacement) > MAX_SOUND_BYTES:
            errors.append(f"Sound File {where} Exceeds maximum allowed filesize")
        new_key = (
            ctx.text("new_sound_label", item) or sound.label,
            ctx.text("new_sound_group", item) or sound.group,
        )
        if new_key != (sound.label, sound.group) and new_key in ctx.state.sound_files:
            errors.append(f"Sound Label {where} already exists in Sound Group")
        if ctx.text("sound_file", item) and not _decode(ctx.text("sound_file", item)):
            errors.append(f"Sound File {where} Empty")
        found.append(sound)
    if errors:
        raise fail(*errors)
    for sound, item in zip(found, items, strict=True):
        del ctx.state.sound_files[(sound.label, sound.group)]
        sound.label = ctx.text("new_sound_label", item) or sound.label
        sound.group = ctx.text("new_sound_group", item) or sound.group
        data = _decode(ctx.text("sound_file", item)) if ctx.text("sound_file", item) else None
        if data:
            sound.data = data
        if ctx.text("notes", item):
            sound.notes = ctx.text("notes", item)
        sound.updated = ctx.now()
        ctx.state.sound_files[(sound.label, sound.group)] = sound
    return ctx.done()


@handles("SoundFiles.deleteSoundFiles")
def delete_sound_files(ctx: Context) -> Reply:
    """Delete ``label;group`` pairs."""
    pairs = [item.strip() for item in (ctx.param("sound_files") or "").split(",")]
    errors = []
    keys = []
    for position, pair in enumerate(pairs, start=1):
        where = f"{position} of {len(pairs)}"
        label, _, group = pair.partition(";")
        if not label.strip():
            errors.append(f"Sound Label {where} Empty")
        elif _find(ctx, label.strip(), group.strip()) is None:
            errors.append(f"Sound File {where} Does not exist")
        keys.append((label.strip(), group.strip()))
    if errors:
        raise fail(*errors)
    for label, group in keys:
        sound = _find(ctx, label, group)
        if sound is not None:
            ctx.state.sound_files.pop((sound.label, sound.group), None)
    return ctx.done()


@handles("Countries.getCountries")
def get_countries(ctx: Context) -> Reply:
    """Country dialling codes and names."""
    return ctx.page([{"code": code, "name": name} for code, name in COUNTRIES])


def _one(ctx: Context) -> SoundFile:
    """The sound file named by the ``sound_label``/``sound_group`` query pair."""
    sound = _find(ctx, ctx.param("sound_label") or "", ctx.param("sound_group") or "")
    if sound is None:
        raise fail(ctx.error("Sound File does not exist"))
    return sound


@handles("SoundFiles.uploadSoundFileData")
def upload_sound_file_data(ctx: Context) -> Reply:
    """Replace one sound file's audio (Ruby peer's method; its behaviour is a guess)."""
    sound = _one(ctx)
    data = _decode(ctx.text("sound_file"))
    if not data:
        raise fail(ctx.error("Sound File Empty"))
    sound.data = data
    sound.updated = ctx.now()
    return ctx.done()


@handles("SoundFiles.deleteSoundFile")
def delete_sound_file(ctx: Context) -> Reply:
    """Delete one sound file (Ruby peer's method; its behaviour is a guess)."""
    sound = _one(ctx)
    del ctx.state.sound_files[(sound.label, sound.group)]
    return ctx.done()
