"""The store cannot roll back silently: frames the head vouches for are never lost without notice.

Each test damages a store the way a crash cannot (whole frames cut from the end, a truncation, a
zero-filled tail, a deleted or replaced journal) and expects ``StoreDamaged`` naming what was lost.
Before ``head.bin`` existed every one of these opened with fewer records and no report.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.store import LocalStore
from app.store.head import HEAD_FILE
from sync.errors import StoreDamaged
from sync.hlc import HybridClock
from tests.unit.store.helpers import PIN, household_op
from tests.unit.store.test_damage import fill, journal, spans


def damage_of(store_dir: Path) -> StoreDamaged:
    with pytest.raises(StoreDamaged) as err:
        LocalStore.open(store_dir, PIN)
    return err.value


def cut(path: Path, size: int) -> None:
    with path.open("r+b") as f:
        f.truncate(size)


def test_last_committed_frame_cut_at_its_boundary_is_damage(
    store_dir: Path, clock: HybridClock
) -> None:
    fill(store_dir, clock, last_in_head=True)
    path = journal(store_dir)
    cut(path, spans(path)[-1][0])
    err = damage_of(store_dir)
    assert err.params == {"what": f"{path.name} #5", "lost": 1}


def test_several_frames_cut_from_the_end_are_damage_naming_them(
    store_dir: Path, clock: HybridClock
) -> None:
    fill(store_dir, clock, last_in_head=True)
    path = journal(store_dir)
    cut(path, spans(path)[3][0])
    err = damage_of(store_dir)
    assert err.params == {"what": f"{path.name} #3–#5", "lost": 3}
    assert "#3–#5" in err.describe("en")


@pytest.mark.parametrize("size", [0, 8])
def test_truncated_journal_is_damage(store_dir: Path, clock: HybridClock, size: int) -> None:
    fill(store_dir, clock, last_in_head=True)
    cut(journal(store_dir), size)  # the whole file, or everything after its header
    assert damage_of(store_dir).params["lost"] == 6


def test_zero_filled_committed_frames_are_damage(store_dir: Path, clock: HybridClock) -> None:
    fill(store_dir, clock, last_in_head=True)
    path = journal(store_dir)
    start = spans(path)[2][0]
    data = path.read_bytes()
    path.write_bytes(data[:start] + bytes(len(data) - start))  # same length, zeros from frame 2
    assert damage_of(store_dir).params == {"what": f"{path.name} #2–#5", "lost": 4}


def test_journal_replaced_by_an_older_copy_is_damage(
    store_dir: Path, clock: HybridClock, tmp_path: Path
) -> None:
    fill(store_dir, clock, n=3, last_in_head=True)
    old = tmp_path / "old.log"
    shutil.copy2(journal(store_dir), old)
    s = LocalStore.open(store_dir, PIN)
    for i in range(3, 6):
        s.record_change(household_op(clock, f"hh-{i}", i))
    s.close()
    shutil.copy2(old, journal(store_dir))
    assert damage_of(store_dir).params["lost"] == 3


def test_journal_with_other_frames_of_the_same_length_is_damage(
    tmp_path: Path, clock: HybridClock
) -> None:
    # the same store before and after one more write: positions and counts match, content not
    a, b = tmp_path / "a", tmp_path / "b"
    fill(a, clock, n=4, last_in_head=True)
    shutil.copytree(a, b)
    for d, note in ((a, "甲"), (b, "乙")):
        s = LocalStore.open(d, PIN)
        s.record_change(household_op(clock, "hh-x", 99 if note == "甲" else 98))
        s.close()
    shutil.copy2(journal(b), journal(a))
    err = damage_of(a)
    assert err.params["what"].startswith(journal(a).name)


def test_missing_newest_journal_after_a_compaction_step_is_damage(
    store_dir: Path, clock: HybridClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.store import engine

    fill(store_dir, clock, last_in_head=True)
    write = engine.files.atomic_write

    def no_snapshot(path: Path, data: bytes) -> None:
        if path.name.startswith("snapshot-"):
            raise OSError(28, "No space left on device")
        write(path, data)

    s = LocalStore.open(store_dir, PIN)
    monkeypatch.setattr(engine.files, "atomic_write", no_snapshot)
    s.compact()  # journal-2 started, snapshot-2 never written
    monkeypatch.undo()
    s.record_change(household_op(clock, "hh-after", 7))
    s.close()
    (store_dir / "journal-2.log").unlink()  # before: opened silently without hh-after
    assert damage_of(store_dir).params == {"what": "journal-2.log"}


def test_missing_head_is_damage(store_dir: Path, clock: HybridClock) -> None:
    fill(store_dir, clock)
    (store_dir / HEAD_FILE).unlink()
    assert damage_of(store_dir).params == {"what": HEAD_FILE}


@pytest.mark.parametrize("index", [0, 1])
def test_a_torn_head_slot_falls_back_to_the_other(
    store_dir: Path, clock: HybridClock, index: int
) -> None:
    fill(store_dir, clock, last_in_head=True)
    path = store_dir / HEAD_FILE
    data = bytearray(path.read_bytes())
    slot = int.from_bytes(data[8:12], "big")
    data[12 + index * slot + 20] ^= 0x40  # one slot torn, as by a crash while it was written
    path.write_bytes(bytes(data))
    s = LocalStore.open(store_dir, PIN)
    assert s.count("household") == 6 and s.torn_tail_dropped == 0
    s.close()


def test_both_head_slots_damaged_is_damage(store_dir: Path, clock: HybridClock) -> None:
    fill(store_dir, clock)
    path = store_dir / HEAD_FILE
    data = bytearray(path.read_bytes())
    slot = int.from_bytes(data[8:12], "big")
    for index in (0, 1):
        data[12 + index * slot + 20] ^= 0x40
    path.write_bytes(bytes(data))
    assert damage_of(store_dir).params == {"what": HEAD_FILE}


def test_a_frame_the_head_had_not_recorded_yet_is_the_silent_case(
    store_dir: Path, clock: HybridClock
) -> None:
    # Documented limit (docs/store.md): the newest frame, appended but not yet in the head when
    # the app died, can be cut at its boundary without notice — exactly what a crash leaves.
    fill(store_dir, clock)
    path = journal(store_dir)
    cut(path, spans(path)[-1][0])
    s = LocalStore.open(store_dir, PIN)
    assert s.count("household") == 5 and s.torn_tail_dropped == 0
    s.close()
