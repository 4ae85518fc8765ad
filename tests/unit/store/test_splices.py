"""Journal format 3: a record whose long child list only gained items is journaled as a splice,
and replay rebuilds exactly the document that was committed."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.store import LocalStore, codec
from app.store.journal import SPLICE_MIN, decode_changes, encode_changes
from sync import hlc, merge
from sync.domain.changes import new_request
from sync.domain.times import to_iso
from sync.errors import StoreDamaged
from sync.hlc import HybridClock
from sync.ops import Op, new_id
from tests.unit.store.helpers import PIN, household_op

REQUEST = "rq-0001"


def note(i: int, at_s: int, *, device: str = "dev-remote", ms: int | None = None) -> Op:
    """A pulled op adding note ``nt-<i>`` (written at second ``at_s``) to the request; its stamp
    is ``ms`` (default: the note's time)."""
    at = to_iso(datetime.fromtimestamp(at_s, UTC))
    child = {"id": f"nt-{i:05d}", "at": at, "member": "m-remote", "text": f"第{i}条"}
    return Op(
        new_id("op-"),
        "request",
        REQUEST,
        hlc.encode(ms if ms is not None else at_s * 1000, 0),
        device,
        "m-remote",
        add={"notes": (child,)},
    )


def created(at_s: int) -> Op:
    clock = HybridClock()
    return new_request(
        "hh-0001",
        "medicine",
        "routine",
        clock=clock,
        device="dev-remote",
        member="m-remote",
        created_at=to_iso(datetime.fromtimestamp(at_s, UTC)),
        entity_id=REQUEST,
    )


def lookup(docs: dict[tuple[str, str], dict[str, Any]]) -> Any:
    return lambda table, key: docs.get((table, key))


# -- the encoding, on its own ------------------------------------------------------------------


def test_appended_items_are_written_as_a_splice() -> None:
    old = {"id": "r", "x": 1, "notes": [{"id": f"n{i}"} for i in range(10)]}
    new = codec.fork(old)
    new["notes"] = [*old["notes"], {"id": "n10"}, {"id": "n11"}]
    new["x"] = 2
    payload = encode_changes([("request", "r", new)], lookup({("request", "r"): old}))
    raw = codec.loads(payload)
    assert raw == [
        [
            "request",
            "r",
            {"id": "r", "x": 2, "notes": None},
            {"notes": [[10, {"id": "n10"}], [11, {"id": "n11"}]]},
        ]
    ]
    replayed = decode_changes(payload, "t", lookup({("request", "r"): old}))
    assert codec.dumps(replayed) == codec.dumps([("request", "r", new)])


def test_unchanged_long_list_is_not_written_again() -> None:
    old = {"id": "r", "status": "open", "notes": [{"id": f"n{i}"} for i in range(50)]}
    new = {**old, "status": "done"}
    payload = encode_changes([("request", "r", new)], lookup({("request", "r"): old}))
    assert codec.loads(payload) == [
        ["request", "r", {"id": "r", "status": "done", "notes": None}, {"notes": []}]
    ]
    assert decode_changes(payload, "t", lookup({("request", "r"): old}))[0][2] == new


@pytest.mark.parametrize(
    "change",
    ["replaced", "removed", "reordered", "mostly_new", "short"],
)
def test_other_list_changes_are_written_whole(change: str) -> None:
    items = [{"id": f"n{i}"} for i in range(SPLICE_MIN + 2)]
    if change == "short":
        items = items[: SPLICE_MIN - 1]
    old = {"id": "r", "notes": items}
    new_items = list(items)
    if change == "replaced":
        new_items[3] = {"id": "n3", "text": "other"}
    elif change == "removed":
        del new_items[3]
    elif change == "reordered":
        new_items[2], new_items[5] = new_items[5], new_items[2]
    elif change == "mostly_new":
        new_items += [{"id": f"m{i}"} for i in range(len(items) + 1)]
    else:
        new_items.append({"id": "m"})
    new = {"id": "r", "notes": new_items}
    payload = encode_changes([("request", "r", new)], lookup({("request", "r"): old}))
    assert codec.loads(payload) == [["request", "r", new]]


def test_format_2_journal_gets_whole_documents() -> None:
    old = {"id": "r", "notes": [{"id": f"n{i}"} for i in range(20)]}
    new = {"id": "r", "notes": [*old["notes"], {"id": "n20"}]}
    payload = encode_changes([("request", "r", new)], lookup({("request", "r"): old}), fmt=2)
    assert codec.loads(payload) == [["request", "r", new]]


def test_the_same_record_twice_in_one_frame_builds_on_the_first() -> None:
    base = {"id": "r", "notes": [{"id": f"n{i}"} for i in range(10)]}
    first = {"id": "r", "notes": [*base["notes"], {"id": "n10"}]}
    second = {"id": "r", "notes": [*first["notes"], {"id": "n11"}]}
    changes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("request", "r", first),
        ("request", "r", second),
    ]
    payload = encode_changes(changes, lookup({("request", "r"): base}))
    assert [len(e) for e in codec.loads(payload)] == [4, 4]
    assert decode_changes(payload, "t", lookup({("request", "r"): base})) == changes


HOLE = {"id": "r", "notes": None}  # the fields of a splice of ``notes``


@pytest.mark.parametrize(
    "entry",
    [
        ["request", "gone", {"id": "gone", "notes": None}, {"notes": [[0, {"id": "n"}]]}],  # no doc
        ["request", "r", {"id": "r", "x": None}, {"x": [[0, {"id": "n"}]]}],  # no such list
        ["request", "r", HOLE, {"notes": [[99, {"id": "n"}]]}],  # index past the end
        ["request", "r", HOLE, {"notes": [[3, {"id": "a"}], [3, {"id": "b"}]]}],  # not ascending
        ["request", "r", HOLE, {"notes": [[-1, {"id": "a"}]]}],  # negative
        ["request", "r", HOLE, {"notes": [["3", {"id": "a"}]]}],  # index not an int
        ["request", "r", HOLE, {"notes": [[True, {"id": "a"}]]}],  # index not an int
        ["request", "r", HOLE, {"notes": [[3]]}],  # not a pair
        ["request", "r", HOLE, {"notes": {"3": {"id": "a"}}}],  # not a list
        ["request", "r", {"id": "r"}, {"notes": []}],  # no place for the list in the fields
        ["request", "r", {"id": "r", "notes": []}, {"notes": []}],  # the list twice
        ["request", "r", None, {"notes": []}],
        ["request", "r", HOLE, [["notes", []]]],
    ],
)
def test_a_splice_that_does_not_fit_is_damage(entry: list[Any]) -> None:
    old = {"id": "r", "notes": [{"id": f"n{i}"} for i in range(10)]}
    with pytest.raises(StoreDamaged):
        decode_changes(codec.dumps([entry]), "journal-3.log #0", lookup({("request", "r"): old}))


def test_the_damage_cases_differ_from_a_good_splice_only_in_their_fault() -> None:
    old = {"id": "r", "notes": [{"id": f"n{i}"} for i in range(10)]}
    good = ["request", "r", HOLE, {"notes": [[3, {"id": "a"}], [11, {"id": "b"}]]}]
    (change,) = decode_changes(codec.dumps([good]), "t", lookup({("request", "r"): old}))
    assert change[2] is not None
    assert [c["id"] for c in change[2]["notes"]][2:5] == ["n2", "a", "n3"]
    assert change[2]["notes"][-1] == {"id": "b"} and len(change[2]["notes"]) == 12


def test_a_splice_in_an_older_journal_format_is_damage() -> None:
    entry = ["request", "r", {"id": "r"}, {"notes": []}]
    with pytest.raises(StoreDamaged):
        decode_changes(codec.dumps([entry]), "journal-2.log #0")


@settings(max_examples=200, deadline=None)
@given(
    old_len=st.integers(0, 40),
    inserts=st.lists(st.tuples(st.integers(0, 60), st.integers(0, 10**6)), max_size=30),
    replace=st.one_of(st.none(), st.integers(0, 39)),
    drop=st.one_of(st.none(), st.integers(0, 39)),
)
def test_replay_rebuilds_exactly_what_was_committed(
    old_len: int, inserts: list[tuple[int, int]], replace: int | None, drop: int | None
) -> None:
    old_items = [{"id": f"o{i}", "v": i % 3} for i in range(old_len)]
    new_items = list(old_items)
    for where, tag in inserts:
        new_items.insert(min(where, len(new_items)), {"id": f"x{tag}", "v": tag % 3})
    if replace is not None and replace < len(new_items):
        new_items[replace] = {"id": "swapped", "v": -1}
    if drop is not None and drop < len(new_items):
        del new_items[drop]
    old = {"id": "r", "k": 1, "notes": old_items, "visits": old_items[:5]}
    new = {"id": "r", "k": 2, "notes": new_items, "visits": old_items[:5]}
    before = lookup({("request", "r"): old})
    payload = encode_changes([("request", "r", new)], before)
    replayed = decode_changes(payload, "t", before)
    assert codec.dumps(replayed) == codec.dumps([("request", "r", new)])  # types too
    assert old["notes"] == old_items  # nothing written through


@pytest.mark.parametrize(
    ("before", "after"),
    [([1] * 10, [True] * 10), ([0] * 10, [0.0] * 10), ([{"n": 1}] * 10, [{"n": True}] * 10)],
)
def test_equal_values_of_another_type_are_not_taken_for_the_old_ones(
    before: list[Any], after: list[Any]
) -> None:
    old = {"id": "r", "flags": before}
    new = {"id": "r", "flags": after}
    stored = lookup({("request", "r"): old})
    replayed = decode_changes(encode_changes([("request", "r", new)], stored), "t", stored)
    assert codec.dumps(replayed[0][2]) == codec.dumps(new)


# -- the store ---------------------------------------------------------------------------------


def merged(ops: list[Op]) -> dict[str, Any]:
    result = merge.merge({}, ops)
    assert not result.rejected
    return result.state[("request", REQUEST)]


def test_pulled_pages_match_the_merge_and_survive_reopen(store_dir: Path) -> None:
    """Pages of notes in server order — most later than the last, some earlier (inserted in the
    middle), some repeated with a smaller stamp (a kept child replaced): after every page and after
    a reopen the store holds exactly what the merge makes of all the ops so far."""
    rng = random.Random(4)
    base = hlc.wall_ms() // 1000 - 100_000
    ops: list[Op] = [created(base)]
    for i in range(600):
        at = base + 60 * i if rng.random() > 0.1 else base + rng.randrange(60 * (i + 1))
        ops.append(note(i, at))
    for i in rng.sample(range(300), 3):  # the same note id again, written earlier elsewhere
        again = note(i, base + 5, device="dev-aaa", ms=base * 1000 - 10_000)
        ops.insert(rng.randrange(i + 2, 320), again)
    pages = [ops[i : i + 97] for i in range(0, len(ops), 97)]
    store = LocalStore.create(store_dir, PIN)
    for n, page in enumerate(pages):
        assert store.apply_remote(page, f"c-{n}") == len(page)
        assert store.get("request", REQUEST) == merged(ops[: 97 * (n + 1)])
        if n in (3, len(pages) - 1):  # replay what the journal holds so far
            store.close()
            store = LocalStore.open(store_dir, PIN)
            assert store.get("request", REQUEST) == merged(ops[: 97 * (n + 1)])
            assert store.cursor() == f"c-{n}"
    spliced = store.journal_bytes()
    store.close()
    assert spliced < 97 * 200 * len(pages)  # not the whole list again and again


def test_a_page_of_notes_costs_its_notes_not_the_record(store_dir: Path) -> None:
    clock = HybridClock()
    base = hlc.wall_ms() // 1000 - 100_000
    store = LocalStore.create(store_dir, PIN)
    try:
        store.apply_remote([note(i, base + i) for i in range(3000)], "c-0")
        big = len(codec.dumps(store.get("request", REQUEST)))
        before = store.journal_bytes()
        store.apply_remote([note(3000 + i, base + 3000 + i) for i in range(10)], "c-1")
        grew = store.journal_bytes() - before
        assert grew < big / 50  # the 10 new notes and the cursor, not 3,010 notes
        store.record_change(household_op(clock, "hh-1", 1))
    finally:
        store.close()


def test_a_merge_never_changes_a_stored_document(store: LocalStore) -> None:
    base = hlc.wall_ms() // 1000 - 100_000
    store.apply_remote([note(i, base + i) for i in range(20)], "c-0")
    held = store._tables.docs("request")[REQUEST]  # the stored dict itself
    copy = codec.clone(held)
    store.apply_remote([note(20 + i, base - i) for i in range(20)], "c-1")  # inserts in the middle
    store.apply_remote(
        [note(3, base, device="dev-aaa", ms=base * 1000 - 1)], "c-2"
    )  # replaces a child
    assert held == copy
    assert store.get("request", REQUEST) != copy
