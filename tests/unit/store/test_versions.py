"""Every earlier store format opens and upgrades; a newer one asks for an app update."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from app.store import LocalStore
from app.store.head import HEAD_FILE
from app.store.journal import HEADER
from sync.domain.changes import add_note
from sync.errors import StoreError
from sync.hlc import HybridClock
from tests.unit.store.helpers import PIN

FIXTURES = Path(__file__).parents[2] / "fixtures" / "store"


def copy_fixture(version: str, to: Path) -> dict[str, Any]:
    src = FIXTURES / version
    to.mkdir(mode=0o700)
    for path in src.iterdir():
        if path.name not in ("README.md", "expected.json"):
            shutil.copy2(path, to / path.name)
    expected: dict[str, Any] = json.loads((src / "expected.json").read_text(encoding="utf-8"))
    return expected


def content(s: LocalStore, kinds: list[str]) -> dict[str, Any]:
    return {
        "records": {k: sorted(s.all(k), key=lambda r: r["id"]) for k in kinds},
        "pending_op_ids": [op.op_id for op in s.pending_ops()],
        "cursor": s.cursor(),
        "meta": {"settings.lang": s.get_meta("settings.lang")},
    }


def test_format_1_store_opens_and_upgrades(store_dir: Path) -> None:
    expected = copy_fixture("v1", store_dir)
    pin = expected.pop("pin")
    s = LocalStore.open(store_dir, pin)
    assert content(s, sorted(expected["records"])) == expected
    assert s.needs_new_pin  # "2468" was allowed then; the app asks for a longer one
    s.close()

    raw = json.loads((store_dir / "key.json").read_text(encoding="utf-8"))
    assert raw["v"] == 2 and raw["scrypt"] == {"n": 2**17, "r": 8, "p": 1}
    journals = sorted(store_dir.glob("journal-*.log"))
    assert [p.name for p in journals] == ["journal-3.log"]  # v1 journal folded into snapshot-3
    assert journals[0].read_bytes().startswith(HEADER)
    assert (store_dir / HEAD_FILE).is_file()

    again = LocalStore.open(store_dir, pin)
    assert content(again, sorted(expected["records"])) == expected
    again.change_pin(pin, PIN)
    assert not again.needs_new_pin
    again.close()
    LocalStore.open(store_dir, PIN).close()


def test_format_1_store_keeps_working_if_the_upgrade_is_interrupted(store_dir: Path) -> None:
    expected = copy_fixture("v1", store_dir)
    pin = expected.pop("pin")
    s = LocalStore.open(store_dir, pin)
    s.wait_compaction()
    s.close()
    (store_dir / "key.json").write_bytes((FIXTURES / "v1" / "key.json").read_bytes())
    # a format-1 key file beside format-2 data (crash before the key was re-wrapped)
    s = LocalStore.open(store_dir, pin)
    assert content(s, sorted(expected["records"])) == expected
    s.close()


def test_journal_format_2_store_opens_and_upgrades(store_dir: Path) -> None:
    expected = copy_fixture("v2", store_dir)
    pin = expected.pop("pin")
    kinds = sorted(expected["records"])
    s = LocalStore.open(store_dir, pin)
    assert content(s, kinds) == expected
    assert not s.needs_new_pin
    s.wait_compaction()  # started at open: the active journal was format 2
    # a pulled note on the long notes list: written as a splice in the format-3 journal
    request = dict(expected["records"]["request"][0])
    notes = list(request["notes"])
    clock = HybridClock()
    note = add_note(request, "回访正常", clock=clock, device="dev-fixture-04", member="m-fx-04")
    assert s.apply_remote([note], "cursor-fx-3") == 1
    after = s.get("request", request["id"])
    assert after is not None and after["notes"][: len(notes)] == notes
    assert len(after["notes"]) == len(notes) + 1
    s.close()

    journals = sorted(store_dir.glob("journal-*.log"))
    assert [p.name for p in journals] == ["journal-3.log"]  # journal-2 folded into snapshot-3
    assert journals[0].read_bytes().startswith(HEADER) and HEADER == b"LLJRNL03"

    again = LocalStore.open(store_dir, pin)
    assert again.get("request", request["id"]) == after
    assert again.cursor() == "cursor-fx-3"
    expected["cursor"] = "cursor-fx-3"
    expected["records"]["request"] = [after]
    assert content(again, kinds) == expected
    again.close()


def too_new(store_dir: Path, pin: str = PIN) -> StoreError:
    with pytest.raises(StoreError) as err:
        LocalStore.open(store_dir, pin)
    assert err.value.code == "store.too_new"
    assert "Update the app" in err.value.describe("en")
    assert "更新应用" in err.value.describe("zh-CN")
    return err.value


def key_file_version(store_dir: Path, version: int) -> dict[str, Any]:
    """A new store whose key file claims format ``version``; returns the key file as written."""
    LocalStore.create(store_dir, PIN).close()
    path = store_dir / "key.json"
    raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    raw["v"] = version
    path.write_text(json.dumps(raw), encoding="utf-8")
    return raw


def test_newer_key_file_asks_for_an_update_and_counts_no_try(store_dir: Path) -> None:
    path = store_dir / "key.json"
    raw = key_file_version(store_dir, 3)
    err = too_new(store_dir, "000000")
    assert err.params == {"what": "key.json", "found": 3, "known": 2}
    assert json.loads(path.read_text(encoding="utf-8")) == raw  # nothing changed, no try counted


@pytest.mark.parametrize(
    ("name", "prefix", "found"),
    [
        ("journal-1.log", b"LLJRNL04", 4),
        ("snapshot-1.bin", b"LLSNAP03", 2),
        (HEAD_FILE, b"LLHEAD02", 2),
    ],
)
def test_newer_data_file_asks_for_an_update(
    store_dir: Path, name: str, prefix: bytes, found: int
) -> None:
    LocalStore.create(store_dir, PIN).close()
    path = store_dir / name
    path.write_bytes(prefix + path.read_bytes()[len(prefix) :])
    assert too_new(store_dir).params == {"what": name, "found": found, "known": found - 1}


def test_unknown_older_looking_key_version_is_damage(store_dir: Path) -> None:
    key_file_version(store_dir, 0)
    with pytest.raises(StoreError) as err:
        LocalStore.open(store_dir, PIN)
    assert err.value.code == "store.damaged"
