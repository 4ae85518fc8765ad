"""No resident data reaches the disk in any readable form."""

from __future__ import annotations

import json
from pathlib import Path

from app.store import LocalStore
from sync.hlc import HybridClock
from tests.unit.store.helpers import PIN, RESIDENTS, household_op, resident_op

SECRETS = [
    *(name for name, _ in RESIDENTS),
    *(phone for _, phone in RESIDENTS),
    "观海轩",
    "独居老人",
]


def forms(text: str) -> list[bytes]:
    escaped = json.dumps(text)[1:-1]  # \\u5f20\\u79c0... for non-ASCII text
    return [
        text.encode("utf-8"),
        text.encode("utf-16-le"),
        text.encode("utf-16-be"),
        escaped.encode("ascii"),
        escaped.lower().encode("ascii"),
        escaped.upper().replace("\\U", "\\u").encode("ascii"),
    ]


def scan(store_dir: Path) -> list[tuple[str, str]]:
    hits = []
    for path in store_dir.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        for secret in SECRETS:
            if any(form in data for form in forms(secret)):
                hits.append((path.name, secret))
    return hits


def test_scan_finds_what_it_looks_for(tmp_path: Path) -> None:
    (tmp_path / "plain.json").write_text(json.dumps({"n": "张秀英"}), encoding="utf-8")
    (tmp_path / "wide.txt").write_bytes("13912345678".encode("utf-16-le"))
    assert sorted(scan(tmp_path)) == [("plain.json", "张秀英"), ("wide.txt", "13912345678")]


def test_no_resident_data_in_any_file(store_dir: Path, clock: HybridClock) -> None:
    s = LocalStore.create(store_dir, PIN, compact_min_bytes=4_000)
    for i, (name, phone) in enumerate(RESIDENTS * 10):
        s.record_change(resident_op(clock, f"r-{i}", name, phone))
        s.record_change(household_op(clock, f"hh-{i}", i))
    s.set_meta("last_search", "张秀英")
    s.add_receipt({"resident": "李建国", "phone": "13800000001"})
    s.wait_compaction()
    assert s.compactions >= 1
    assert scan(store_dir) == []  # while open (journal, snapshot, key file, lock)
    s.compact()
    s.record_change(resident_op(clock, "r-last", "王桂兰", "13700000002"))
    s.close()
    assert scan(store_dir) == []
    s = LocalStore.open(store_dir, PIN)
    assert s.count("resident") == 41
    s.close()
    assert scan(store_dir) == []
