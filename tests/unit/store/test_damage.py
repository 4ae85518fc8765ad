"""Torn tails are dropped and reported; every other kind of damage is refused, never guessed."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from app.store import LocalStore
from app.store.journal import HEADER
from sync.errors import StoreDamaged
from sync.hlc import HybridClock
from tests.unit.store.helpers import PIN, household_op


def fill(store_dir: Path, clock: HybridClock, n: int = 6, *, last_in_head: bool = False) -> None:
    """``n`` writes. Unless ``last_in_head``, the head is left as it was before the last one, as
    when the app dies between appending a frame and recording it in ``head.bin``: only such a
    frame can be torn by a crash (see test_rollback.py for cuts of frames the head vouches for)."""
    s = LocalStore.create(store_dir, PIN)
    for i in range(n - 1):
        s.record_change(household_op(clock, f"hh-{i}", i))
    head = (store_dir / "head.bin").read_bytes()
    s.record_change(household_op(clock, f"hh-{n - 1}", n - 1))
    s.close()
    if not last_in_head:
        (store_dir / "head.bin").write_bytes(head)


def journal(store_dir: Path) -> Path:
    (path,) = store_dir.glob("journal-*.log")
    return path


def snapshot(store_dir: Path) -> Path:
    (path,) = store_dir.glob("snapshot-*.bin")
    return path


def spans(path: Path) -> list[tuple[int, int]]:
    """(start, end) of each frame after the journal header: an 8-byte frame header holding the
    body length, then the body."""
    data = path.read_bytes()
    assert data.startswith(HEADER)
    out, pos = [], len(HEADER)
    while pos < len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        out.append((pos, pos + 8 + length))
        pos += 8 + length
    return out


def flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x40
    path.write_bytes(bytes(data))


def ids(store_dir: Path) -> list[str]:
    s = LocalStore.open(store_dir, PIN)
    try:
        return [r["id"] for r in s.all("household")]
    finally:
        s.close()


@pytest.mark.parametrize("cut", [1, 5, 8, 9, 40])
def test_incomplete_last_frame_is_dropped_and_reported(
    store_dir: Path, clock: HybridClock, cut: int
) -> None:
    fill(store_dir, clock)
    path = journal(store_dir)
    start, _ = spans(path)[-1]
    with path.open("r+b") as f:
        f.truncate(start + cut)
    s = LocalStore.open(store_dir, PIN)
    try:
        assert s.torn_tail_dropped == 1
        assert s.torn_tail_bytes == cut
        assert [r["id"] for r in s.all("household")] == [f"hh-{i}" for i in range(5)]
        assert s.pending_count() == 5
        s.record_change(household_op(clock, "hh-new", 9))  # the journal goes on cleanly
    finally:
        s.close()
    assert path.stat().st_size == spans(path)[-1][1]
    again = LocalStore.open(store_dir, PIN)
    assert again.torn_tail_dropped == 0
    assert again.get("household", "hh-new") is not None
    again.close()


def test_zero_filled_tail_is_a_torn_tail(store_dir: Path, clock: HybridClock) -> None:
    fill(store_dir, clock)
    with journal(store_dir).open("ab") as f:
        f.write(bytes(300))
    s = LocalStore.open(store_dir, PIN)
    assert s.torn_tail_dropped == 1
    assert s.count("household") == 6
    s.close()


def test_last_frame_failing_auth_at_the_very_end_is_a_torn_tail(
    store_dir: Path, clock: HybridClock
) -> None:
    fill(store_dir, clock)
    path = journal(store_dir)
    _, end = spans(path)[-1]
    flip(path, end - 3)
    s = LocalStore.open(store_dir, PIN)
    assert s.torn_tail_dropped == 1
    assert s.count("household") == 5
    s.close()


def test_flipped_byte_mid_journal_is_damage(store_dir: Path, clock: HybridClock) -> None:
    fill(store_dir, clock)
    path = journal(store_dir)
    start, _ = spans(path)[2]
    flip(path, start + 30)
    with pytest.raises(StoreDamaged) as err:
        LocalStore.open(store_dir, PIN)
    assert err.value.params["what"] == f"{path.name} #2"


def test_damaged_frame_header_mid_journal_is_damage(store_dir: Path, clock: HybridClock) -> None:
    fill(store_dir, clock)
    path = journal(store_dir)
    start, _ = spans(path)[3]
    flip(path, start + 1)  # the length: now claims to run past the end of the file
    with pytest.raises(StoreDamaged):
        LocalStore.open(store_dir, PIN)


def frames(path: Path) -> list[bytes]:
    """The journal's frames, whole, in file order."""
    data = path.read_bytes()
    return [data[a:b] for a, b in spans(path)]


def test_swapped_frames_are_damage(store_dir: Path, clock: HybridClock) -> None:
    fill(store_dir, clock)
    path = journal(store_dir)
    parts = frames(path)
    parts[1], parts[2] = parts[2], parts[1]
    path.write_bytes(b"".join(parts))
    with pytest.raises(StoreDamaged):
        LocalStore.open(store_dir, PIN)


def test_dropped_middle_frame_is_damage(store_dir: Path, clock: HybridClock) -> None:
    fill(store_dir, clock)
    path = journal(store_dir)
    parts = frames(path)
    del parts[2]
    path.write_bytes(b"".join(parts))
    with pytest.raises(StoreDamaged):
        LocalStore.open(store_dir, PIN)


def test_replayed_frame_at_the_end_is_a_torn_tail_not_a_duplicate(
    store_dir: Path, clock: HybridClock
) -> None:
    fill(store_dir, clock)
    path = journal(store_dir)
    data = path.read_bytes()
    a, b = spans(path)[0]
    path.write_bytes(data + data[a:b])  # frame 0 again, at position 6: fails its binding
    s = LocalStore.open(store_dir, PIN)
    assert s.torn_tail_dropped == 1
    assert s.count("household") == 6
    assert s.pending_count() == 6
    s.close()


def test_frame_from_another_store_is_refused(tmp_path: Path, clock: HybridClock) -> None:
    fill(tmp_path / "a", clock)
    fill(tmp_path / "b", clock)
    a, b = journal(tmp_path / "a"), journal(tmp_path / "b")
    start, end = spans(b)[0]
    frame = b.read_bytes()[start:end]
    a.write_bytes(a.read_bytes() + frame + a.read_bytes()[: spans(a)[0][1]])
    with pytest.raises(StoreDamaged):
        LocalStore.open(tmp_path / "a", PIN)


def test_flipped_byte_in_snapshot_is_damage(store_dir: Path, clock: HybridClock) -> None:
    fill(store_dir, clock)
    s = LocalStore.open(store_dir, PIN)
    s.compact()
    s.close()
    path = snapshot(store_dir)
    flip(path, path.stat().st_size // 2)
    with pytest.raises(StoreDamaged) as err:
        LocalStore.open(store_dir, PIN)
    assert err.value.params["what"] == path.name


def test_missing_journal_is_damage(store_dir: Path, clock: HybridClock) -> None:
    fill(store_dir, clock)
    journal(store_dir).unlink()
    with pytest.raises(StoreDamaged):
        LocalStore.open(store_dir, PIN)


def test_missing_snapshot_is_damage(store_dir: Path, clock: HybridClock) -> None:
    fill(store_dir, clock)
    snapshot(store_dir).unlink()
    with pytest.raises(StoreDamaged):
        LocalStore.open(store_dir, PIN)


def test_damaged_key_file_is_damage(store_dir: Path, clock: HybridClock) -> None:
    fill(store_dir, clock)
    (store_dir / "key.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(StoreDamaged) as err:
        LocalStore.open(store_dir, PIN)
    assert err.value.params["what"] == "key.json"


def test_damage_message_says_what_and_what_next(store_dir: Path, clock: HybridClock) -> None:
    fill(store_dir, clock)
    snapshot(store_dir).unlink()
    with pytest.raises(StoreDamaged) as err:
        LocalStore.open(store_dir, PIN)
    assert "联系指挥部" in err.value.describe("zh-CN")
    assert "contact the command centre" in err.value.describe("en")
