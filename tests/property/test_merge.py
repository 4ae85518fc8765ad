"""Properties of the merge over random op sets: several devices, conflicting field writes, status
changes, colliding children, duplicates and invalid ops, with clocks drawn from a small range so
equal ``(hlc, device)`` stamps happen too.

* commutative — any permutation of the ops gives the same state and the same rejections;
* associative — any split into batches, merged separately and joined in any grouping, gives the
  same state as merging everything at once (and so does merging the batches one after another);
* idempotent — merging the same ops again, or joining a state with itself, changes nothing;
* convergent — replicas that receive the same set by different routes end in the same state;
* and, against an independent oracle, the state is what last-writer-wins / first-child-wins says.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sync.domain import OUTCOME_STATUS, validate_op
from sync.domain.enums import ASSIGNMENT_STATUSES, CONTROL, REQUEST_STATUSES, VISIT_OUTCOMES
from sync.errors import LinliError
from sync.hlc import encode
from sync.merge import Merger, MergeResult, apply_op, join_states, merge, merge_many
from sync.ops import Op

BASE_MS = 1_648_800_000_000
DEVICES = ("dev-a", "dev-b", "dev-c")
MEMBERS = ("mb-zhang", "mb-li")
NOTES = ("家中有行动不便老人", "敲门无人应答", "已电话联系", None)
TIMES = ("2022-04-01T09:00:00Z", "2022-04-01T10:00:00Z", "2022-04-01T10:00:00Z")
REVISIT_DUE = "2022-04-01T12:00:00Z"
SETTINGS = settings(max_examples=150, deadline=None)

stamps = st.builds(lambda ms, n: encode(BASE_MS + ms, n), st.integers(0, 5), st.integers(0, 2))


@st.composite
def household_op(draw: st.DrawFn) -> dict[str, Any]:
    fields = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "note": st.sampled_from(NOTES),
                "phone": st.sampled_from(("13800000000", "13912345678", "0755-12345678", "12")),
                "control": st.sampled_from(CONTROL),
                "address": st.sampled_from(("观海轩 3栋 2单元 1201", "听涛阁 1栋 1单元 302")),
            },
        )
    )
    return {
        "kind": "household",
        "entity_id": draw(st.sampled_from(("hh-1", "hh-2"))),
        "set": fields,
    }


def _moves(statuses: tuple[str, ...]) -> st.SearchStrategy[tuple[str, str]]:
    return st.tuples(st.sampled_from(statuses), st.sampled_from(statuses))


@st.composite
def assignment_op(draw: st.DrawFn) -> dict[str, Any]:
    shape = draw(st.sampled_from(("create", "move", "visit", "result", "title")))
    out: dict[str, Any] = {
        "kind": "assignment",
        "entity_id": draw(st.sampled_from(("as-1", "as-2"))),
    }
    if shape == "create":
        out["set"] = {
            "type": "nucleic_acid_sampling",
            "target_kind": "household",
            "target_id": draw(st.sampled_from(("hh-1", "hh-2"))),
            "priority": draw(st.sampled_from(("normal", "urgent"))),
            "status": draw(st.sampled_from(("pending", "pending", "done"))),
        }
    elif shape == "move":
        frm, to = draw(_moves(ASSIGNMENT_STATUSES))
        due = {"revisit_due": REVISIT_DUE} if to == "no_answer" and draw(st.booleans()) else {}
        out["set"], out["seen"] = {"status": to, **due}, {"status": frm}
    elif shape == "visit":
        outcome = draw(st.sampled_from(VISIT_OUTCOMES))
        child = {
            "id": draw(st.sampled_from(("v-1", "v-2", "v-3"))),
            "at": draw(st.sampled_from(TIMES)),
            "member": draw(st.sampled_from(MEMBERS)),
            "outcome": outcome,
        }
        note = draw(st.sampled_from(NOTES))
        if note:
            child["note"] = note
        out["add"] = {"visits": (child,)}
        if draw(st.booleans()):
            to = OUTCOME_STATUS[outcome]
            due = {"revisit_due": REVISIT_DUE} if to == "no_answer" else {}
            out["set"] = {"status": to, **due}
            out["seen"] = {"status": draw(st.sampled_from(ASSIGNMENT_STATUSES))}
    elif shape == "result":
        out["set"] = {"result": {"people_sampled": draw(st.integers(-1, 4))}}
        out["seen"] = {"type": draw(st.sampled_from(("nucleic_acid_sampling", "welfare_check")))}
    else:
        out["set"] = {"title": draw(st.sampled_from(("上门采样", "复采", "送药")))}
    return out


@st.composite
def request_op(draw: st.DrawFn) -> dict[str, Any]:
    shape = draw(st.sampled_from(("note", "move", "urgency")))
    out: dict[str, Any] = {"kind": "request", "entity_id": "rq-1"}
    if shape == "note":
        child = {
            "id": draw(st.sampled_from(("n-1", "n-2"))),
            "at": draw(st.sampled_from(TIMES)),
            "member": draw(st.sampled_from(MEMBERS)),
            "text": draw(st.sampled_from(("已联系药店", "居民已收到", "  "))),
        }
        out["add"] = {"notes": (child,)}
    elif shape == "move":
        frm, to = draw(_moves(REQUEST_STATUSES))
        out["set"], out["seen"] = {"status": to}, {"status": frm}
    else:
        urgency, due = draw(
            st.sampled_from(
                (
                    ("emergency", "2022-04-01T09:00:00Z"),
                    ("urgent", "2022-04-01T12:00:00Z"),
                    ("routine", "2022-04-02T08:00:00Z"),
                    ("routine", "2022-04-01T09:00:00Z"),  # not derived from urgency: refused
                )
            )
        )
        out["set"] = {"urgency": urgency, "due": due}
        out["seen"] = {"created_at": "2022-04-01T08:00:00Z"}
    return out


@st.composite
def an_op(draw: st.DrawFn, index: int) -> Op:
    body = draw(st.one_of(household_op(), assignment_op(), request_op()))
    return Op(
        op_id=f"op-{index}",
        hlc=draw(stamps),
        device=draw(st.sampled_from(DEVICES)),
        member=draw(st.sampled_from(MEMBERS)),
        **body,
    )


@st.composite
def op_sets(draw: st.DrawFn) -> list[Op]:
    """Up to 24 ops, a few stamped exactly like another one (as a faulty clock would), and some
    sent twice (a retried upload)."""
    count = draw(st.integers(1, 20))
    ops = [draw(an_op(i)) for i in range(count)]
    for i in range(draw(st.integers(0, 4))):
        twin_of = draw(st.sampled_from(ops))
        clash = draw(an_op(count + i))
        ops.append(Op(**{**_fields(clash), "hlc": twin_of.hlc, "device": twin_of.device}))
    repeats = draw(st.lists(st.sampled_from(ops), max_size=6))
    return ops + repeats


def outcome(result: MergeResult) -> tuple[dict[Any, Any], list[tuple[str, str]]]:
    return result.state, sorted((op_id, exc.code) for op_id, exc in result.rejected)


def fold(states: list[dict[Any, Any]]) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for state in states:
        out = join_states(out, state)
    return out


def split(ops: list[Op], cuts: list[int]) -> list[list[Op]]:
    edges = [0, *sorted(c % (len(ops) + 1) for c in cuts), len(ops)]
    return [ops[a:b] for a, b in itertools.pairwise(edges)]


@SETTINGS
@given(ops=op_sets(), data=st.data())
def test_merge_is_commutative(ops: list[Op], data: st.DataObject) -> None:
    shuffled = data.draw(st.permutations(ops))
    assert outcome(merge({}, shuffled)) == outcome(merge({}, ops))


@SETTINGS
@given(ops=op_sets(), cuts=st.lists(st.integers(0, 40), max_size=4), data=st.data())
def test_merge_is_associative(ops: list[Op], cuts: list[int], data: st.DataObject) -> None:
    everything = merge({}, ops).state
    batches = split(ops, cuts)
    states = [merge({}, batch).state for batch in batches]
    assert fold(states) == everything
    assert fold(list(reversed(states))) == everything
    if len(states) >= 3:  # (a ⊔ b) ⊔ c == a ⊔ (b ⊔ c)
        a, b, c = states[0], states[1], fold(states[2:])
        assert join_states(join_states(a, b), c) == join_states(a, join_states(b, c))
    state: dict[Any, Any] = {}
    for batch in data.draw(st.permutations(batches)):
        state = merge(state, batch).state
    assert state == everything


@SETTINGS
@given(ops=op_sets())
def test_merge_is_idempotent(ops: list[Op]) -> None:
    once = merge({}, ops)
    assert merge(once.state, ops).state == once.state
    assert join_states(once.state, once.state) == once.state
    doubled = [o for op in ops for o in (op, op)]
    assert outcome(merge({}, doubled))[0] == once.state


@SETTINGS
@given(ops=op_sets(), data=st.data())
def test_replicas_that_see_the_same_ops_converge(ops: list[Op], data: st.DataObject) -> None:
    # Three replicas: each first receives its own random share, in its own order...
    shares = [data.draw(st.lists(st.sampled_from(ops), max_size=len(ops))) for _ in range(3)]
    replicas = [merge({}, share).state for share in shares]
    # ...then catches up by a different route: the rest as ops, or other replicas' states.
    caught_up = [
        merge(replicas[0], data.draw(st.permutations(ops))).state,
        join_states(replicas[1], merge({}, data.draw(st.permutations(ops))).state),
        join_states(join_states(replicas[2], replicas[0]), merge(replicas[1], ops).state),
    ]
    expected = merge({}, ops).state
    assert all(state == expected for state in caught_up)


def _op_by_op(state: dict[Any, Any], ops: list[Op]) -> dict[Any, Any]:
    out = dict(state)
    for op in ops:
        key = (op.kind, op.entity_id)
        out[key] = apply_op(out.get(key), op)
    return out


@SETTINGS
@given(ops=op_sets(), cut=st.integers(0, 40))
def test_a_page_merge_equals_the_op_by_op_merge(ops: list[Op], cut: int) -> None:
    valid = _valid(ops)
    cut %= len(valid) + 1
    before = _op_by_op({}, valid[:cut])  # records that already hold some children
    snapshot = json.dumps(_plain({str(k): v for k, v in before.items()}), sort_keys=True)
    expected = _op_by_op(before, valid[cut:])
    # merge(): one copy per touched record, one Merger for the whole page
    assert merge(before, valid[cut:]).state == expected
    # a Merger over records the caller owns, in any interleaving of records
    owned = {key: _plain(record) for key, record in before.items()}
    merger = Merger()
    for op in valid[cut:]:
        key = (op.kind, op.entity_id)
        owned[key] = merger.apply(owned.get(key), op)
    merger.finish()
    assert owned == expected
    # merge_many: each record's ops as one page, in the ops' order
    for key in {(op.kind, op.entity_id) for op in valid[cut:]}:
        mine = [op for op in valid[cut:] if (op.kind, op.entity_id) == key]
        current = before.get(key)
        paged = merge_many(_plain(current) if current else None, mine)
        assert paged == expected[key]
    # the input state was never changed
    assert json.dumps(_plain({str(k): v for k, v in before.items()}), sort_keys=True) == snapshot


def _valid(ops: list[Op]) -> list[Op]:
    valid = []
    for op in ops:
        try:
            validate_op(op)
        except LinliError:
            continue
        valid.append(op)
    return valid


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@SETTINGS
@given(ops=op_sets(), data=st.data())
def test_state_is_last_writer_wins_per_field_and_first_writer_per_child(
    ops: list[Op], data: st.DataObject
) -> None:
    # Give every distinct op its own clock reading, so "last" and "first" are unambiguous.
    distinct = list({op.op_id: op for op in ops}.values())
    order = data.draw(st.permutations(range(len(distinct))))
    restamped = {
        op.op_id: Op(**{**_fields(op), "hlc": encode(BASE_MS + 10 * rank, 0)})
        for op, rank in zip(distinct, order, strict=True)
    }
    stamped = [restamped[op.op_id] for op in ops]
    state = merge({}, data.draw(st.permutations(stamped))).state

    fields: dict[tuple[str, str], dict[str, Any]] = {}
    children: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for op in sorted(_valid(list(restamped.values())), key=lambda o: o.order):
        key = (op.kind, op.entity_id)
        fields.setdefault(key, {"id": op.entity_id}).update(_plain(op.set))  # last one stays
        for name, items in op.add.items():
            kept = children.setdefault(key, {}).setdefault(name, {})
            for child in items:
                kept.setdefault(child["id"], _plain(child))  # the first one stays
    assert state.keys() == fields.keys()
    for key, record in state.items():
        assert {k: v for k, v in record.items() if not _is_children(record, k) and k != "_clk"} == (
            fields[key]
        )
        lists = {k: v for k, v in record.items() if _is_children(record, k)}
        assert {
            name: {c["id"]: {k: v for k, v in c.items() if k != "_clk"} for c in items}
            for name, items in lists.items()
        } == children.get(key, {})
        for items in lists.values():
            assert [(c["at"], c["id"]) for c in items] == sorted((c["at"], c["id"]) for c in items)
        assert json.loads(json.dumps(record)) == record


def _is_children(record: Mapping[str, Any], name: str) -> bool:
    return name not in ("id", "_clk") and name not in record["_clk"]


def _fields(op: Op) -> dict[str, Any]:
    return {name: getattr(op, name) for name in Op.__dataclass_fields__}
