from __future__ import annotations

from pathlib import Path

import pytest

from app.store import LocalStore
from sync.errors import StoreError, StoreLocked, ValidationError
from sync.hlc import HybridClock
from tests.unit.store.helpers import PIN, RESIDENTS, household_op, note_op, record, resident_op


def test_create_then_reopen_keeps_records_outbox_and_meta(
    store_dir: Path, clock: HybridClock
) -> None:
    assert not LocalStore.exists(store_dir)
    s = LocalStore.create(store_dir, PIN)
    assert LocalStore.exists(store_dir)
    made = [
        s.record_change(resident_op(clock, f"r-{i}", name, phone))
        for i, (name, phone) in enumerate(RESIDENTS)
    ]
    s.set_meta("device", {"id": "dev-test-01", "keys": [1, 2, 3]})
    s.add_receipt({"batch": "b-1", "count": 4})
    s.close()

    again = LocalStore.open(store_dir, PIN)
    try:
        assert again.all("resident") == made
        assert record(again, "resident", "r-0")["name"] == "张秀英"
        assert again.get_meta("device") == {"id": "dev-test-01", "keys": [1, 2, 3]}
        assert again.receipts() == [{"batch": "b-1", "count": 4}]
        assert [op.entity_id for op in again.pending_ops()] == ["r-0", "r-1", "r-2", "r-3"]
        assert again.torn_tail_dropped == 0
    finally:
        again.close()


def test_update_merges_into_the_existing_record(store: LocalStore, clock: HybridClock) -> None:
    store.record_change(household_op(clock, "hh-1", 1))
    updated = store.record_change(note_op(clock, "hh-1", "已完成采样"))
    assert updated["note"] == "已完成采样"
    assert updated["address"] == "观海轩 2栋 2单元 102"
    assert store.get("household", "hh-1") == updated
    assert store.count("household") == 1


def test_returned_records_do_not_alias_stored_ones(store: LocalStore, clock: HybridClock) -> None:
    made = store.record_change(resident_op(clock, "r-1", "张秀英", "13912345678"))
    made["name"] = "changed"
    made["care_flags"].append("disabled")
    got = store.get("resident", "r-1")
    assert got is not None
    assert got["name"] == "张秀英"
    assert got["care_flags"] == ["elderly_alone"]
    got["care_flags"].clear()
    found = store.find("resident", {"name": "张秀英"})
    assert found[0]["care_flags"] == ["elderly_alone"]
    found[0]["care_flags"].append("x")
    assert store.all("resident")[0]["care_flags"] == ["elderly_alone"]
    meta = {"list": [1]}
    store.set_meta("k", meta)
    meta["list"].append(2)
    store.get_meta("k")["list"].append(3)
    assert store.get_meta("k") == {"list": [1]}


def test_find_count_by_field_and_predicate(store: LocalStore, clock: HybridClock) -> None:
    store.record_changes([household_op(clock, f"hh-{n}", n) for n in range(30)])
    in_building_3 = store.find("household", {"building": "3栋"})
    assert sorted(r["id"] for r in in_building_3) == ["hh-14", "hh-2", "hh-26"]
    assert store.count("household", {"building": "3栋"}) == 3
    assert store.count("household", {"building": "3栋", "unit": "3单元"}) == 3
    assert store.count("household", {"building": "3栋", "unit": "1单元"}) == 0
    odd = store.find("household", predicate=lambda r: int(r["room"]) % 2 == 1)
    assert len(odd) == 15
    both = store.find("household", {"unit": "2单元"}, predicate=lambda r: r["building"] == "2栋")
    assert [r["id"] for r in both] == ["hh-1", "hh-13", "hh-25"]
    # a write invalidates cached query results
    store.record_change(note_op(clock, "hh-2", "新备注"))
    assert {r["note"] for r in store.find("household", {"building": "3栋"})} == {
        "新备注",
        "家中有行动不便老人，采样需上门",
    }


def test_unknown_kind_is_refused_without_writing(store: LocalStore) -> None:
    with pytest.raises(ValidationError):
        store.get("spaceship", "x")
    with pytest.raises(ValidationError):
        store.find("spaceship")


def test_meta_set_replace_and_delete(store: LocalStore) -> None:
    assert store.get_meta("hlc", "none") == "none"
    store.set_meta("hlc", "000001795924030282:00000")
    store.set_meta("hlc", "000001795924030283:00000")
    assert store.get_meta("hlc") == "000001795924030283:00000"
    store.set_meta("hlc", None)
    assert store.get_meta("hlc") is None
    with pytest.raises(ValidationError):
        store.set_meta("bad", {"x": {1, 2}})
    with pytest.raises(ValidationError):
        store.set_meta("bad", float("nan"))


def test_listeners_hear_committed_kinds(store: LocalStore, clock: HybridClock) -> None:
    heard: list[frozenset[str]] = []
    unsubscribe = store.add_listener(heard.append)

    def broken(kinds: frozenset[str]) -> None:
        raise RuntimeError("a view-model bug")

    store.on_change.append(broken)  # a broken listener does not break writes
    store.record_change(resident_op(clock, "r-1", "张秀英", "13912345678"))
    store.set_meta("x", 1)
    unsubscribe()
    store.set_meta("y", 2)
    assert heard == [frozenset({"resident", "outbox"}), frozenset({"meta"})]


def test_closed_store_is_locked(store_dir: Path, clock: HybridClock) -> None:
    s = LocalStore.create(store_dir, PIN)
    s.close()
    s.close()  # idempotent
    with pytest.raises(StoreLocked):
        s.get("resident", "r-1")
    with pytest.raises(StoreLocked):
        s.record_change(resident_op(clock, "r-1", "张秀英", "13912345678"))


def test_create_twice_open_missing_and_open_twice(store_dir: Path) -> None:
    with pytest.raises(StoreError) as missing:
        LocalStore.open(store_dir, PIN)
    assert missing.value.code == "store.missing"
    s = LocalStore.create(store_dir, PIN)
    try:
        with pytest.raises(StoreError) as twice:
            LocalStore.create(store_dir, PIN)
        assert twice.value.code == "store.exists"
        with pytest.raises(StoreError) as busy:
            LocalStore.open(store_dir, PIN)
        assert busy.value.code == "store.in_use"
    finally:
        s.close()
    LocalStore.open(store_dir, PIN).close()


def test_half_created_store_can_be_created_again(store_dir: Path) -> None:
    s = LocalStore.create(store_dir, PIN)
    s.close()
    (store_dir / "key.json").unlink()  # a crash before key.json was written
    assert not LocalStore.exists(store_dir)
    LocalStore.create(store_dir, PIN).close()
    LocalStore.open(store_dir, PIN).close()


def test_wipe_removes_every_file(store_dir: Path, clock: HybridClock) -> None:
    s = LocalStore.create(store_dir, PIN)
    s.record_change(resident_op(clock, "r-1", "张秀英", "13912345678"))
    s.close()
    LocalStore.wipe(store_dir)
    assert not store_dir.exists()
    assert not LocalStore.exists(store_dir)
    LocalStore.wipe(store_dir)  # nothing there: fine


def test_context_manager_closes(store_dir: Path) -> None:
    with LocalStore.create(store_dir, PIN) as s:
        s.set_meta("a", 1)
    with pytest.raises(StoreLocked):
        s.get_meta("a")
