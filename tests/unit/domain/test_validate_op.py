"""``validate_op``: each rule that judges an op on its own, accepting and refusing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.domain import KINDS, check_device_writable, validate_op
from sync.errors import LinliError, OpRejected, ValidationError
from sync.ops import Op
from tests.unit.domain.factories import ASSIGNMENT, HOUSEHOLD, REQUEST, RESIDENT, op, visit


def rejection(candidate: Op) -> LinliError:
    with pytest.raises(ValidationError) as info:
        validate_op(candidate)
    exc = info.value
    for lang in ("zh-CN", "en"):
        text = exc.describe(lang)
        assert not text.startswith("error."), f"no catalog text for {exc.code}"
        assert not re.search(r"\{\w+\}", text), f"unfilled placeholder in {exc.code}: {text}"
    return exc


def test_valid_creates_of_every_kind_pass() -> None:
    creates: dict[str, dict[str, Any]] = {
        "place": {
            "level": "building",
            "name": "观海轩 3栋",
            "parent_id": "pl-c1",
            "control": "sealed",
        },
        "household": HOUSEHOLD,
        "resident": RESIDENT,
        "team": {
            "name": "观海轩邻里服务队",
            "kind": "neighbour_service",
            "community_id": "pl-c1",
            "area": ["pl-b1", "pl-b2"],
        },
        "member": {
            "name": "李建国",
            "phone": "13800000001",
            "role": "team_lead",
            "team_id": "tm-1",
        },
        "shift": {
            "team_id": "tm-1",
            "starts": "2022-04-01T00:00:00Z",
            "ends": "2022-04-01T08:00:00Z",
        },
        "assignment": ASSIGNMENT,
        "request": REQUEST,
        "notice": {
            "kind": "rumour_rebuttal",
            "title": "关于“全员转运”的辟谣",
            "body": "网传消息不实。\n请以官方通知为准。",
            "published_at": "2022-04-01T02:00:00Z",
            "community_id": "pl-c1",
        },
        "contact": {"community_id": "pl-c1", "label": "社区医生", "phone": "0755-12345678"},
    }
    assert creates.keys() == KINDS.keys()
    for kind, fields in creates.items():
        validate_op(op(kind, set=fields))


def test_unknown_kind_field_and_reserved_names() -> None:
    assert rejection(op("spaceship", set={"name": "x"})).code == "op.unknown_kind"
    exc = rejection(op("household", set={"no_such_field": "x"}))
    assert (exc.code, exc.params["field"]) == ("op.unknown_field", "no_such_field")
    assert rejection(op("household", set={"_clk": {}})).code == "op.unknown_field"
    assert rejection(op("household", set={"id": "hh-2"})).code == "op.unknown_field"
    assert isinstance(exc, OpRejected)


def test_bad_entity_or_member_id() -> None:
    assert rejection(op("household", "坏 id", set={"note": "x"})).params["field"] == "entity_id"
    assert rejection(op("household", set={"note": "x"}, member="m 1")).params["field"] == "member"


def test_an_op_that_changes_nothing_is_refused() -> None:
    assert rejection(op("household")).code == "op.empty"


def test_partial_updates_of_kinds_without_status_pass() -> None:
    validate_op(op("household", set={"note": "家中有行动不便老人"}))
    validate_op(op("resident", set={"care_flags": []}))


def test_clearing_optional_fields_passes_but_required_ones_cannot_be_cleared() -> None:
    validate_op(op("household", set={"note": None, "phone": None}))
    exc = rejection(op("household", set={"address": None}))
    assert (exc.code, exc.params["field"]) == ("validation.required", "address")


def test_field_values_are_checked() -> None:
    assert rejection(op("resident", set={"phone": "12345678901"})).code == "validation.phone"
    assert rejection(op("resident", set={"age_band": "90+"})).code == "validation.enum"
    assert rejection(op("resident", set={"name": ""})).code == "validation.empty"
    assert rejection(op("resident", set={"name": "张" * 51})).code == "validation.too_long"
    assert rejection(op("assignment", set={"due": "tomorrow"})).code == "validation.time"


def test_children_cannot_be_set_only_added() -> None:
    exc = rejection(op("assignment", set={"visits": [visit("done")]}))
    assert (exc.code, exc.params["field"]) == ("op.child_immutable", "visits")


def test_children_are_checked() -> None:
    validate_op(op("assignment", add={"visits": (visit("no_answer", note="敲门无人"),)}))
    assert rejection(op("household", add={"visits": (visit("done"),)})).code == "op.unknown_child"
    assert rejection(op("assignment", add={"visits": (visit("maybe"),)})).code == "validation.enum"
    missing = {k: v for k, v in visit("done").items() if k != "member"}
    exc = rejection(op("assignment", add={"visits": (missing,)}))
    assert (exc.code, exc.params["field"]) == ("validation.required", "visits.member")
    exc = rejection(op("assignment", add={"visits": (visit("done", mood="好"),)}))
    assert (exc.code, exc.params["field"]) == ("op.unknown_field", "visits.mood")
    twice = (visit("done"), visit("no_answer"))
    assert rejection(op("assignment", add={"visits": twice})).code == "op.duplicate_child"
    many = tuple(visit("done", vid=f"v-{i}") for i in range(51))
    assert rejection(op("assignment", add={"visits": many})).code == "validation.too_many"
    note = {"id": "n-1", "at": "2022-04-01T09:00:00Z", "member": "mb-li", "text": "已联系药店"}
    validate_op(op("request", add={"notes": (note,)}))
    assert (
        rejection(op("request", add={"notes": ({**note, "text": " "},)})).code == "validation.empty"
    )


def test_seen_may_only_quote_status_and_context_fields() -> None:
    exc = rejection(op("household", set={"note": "x"}, seen={"note": "y"}))
    assert (exc.code, exc.params["field"]) == ("op.unexpected_seen", "note")
    exc = rejection(op("assignment", set={"title": "x"}, seen={"status": "finished"}))
    assert (exc.code, exc.params["field"]) == ("validation.enum", "seen.status")
    assert rejection(op("assignment", set={"title": "x"}, seen={"type": None})).code == (
        "validation.required"
    )


def test_create_of_a_status_kind_needs_every_required_field() -> None:
    partial = {k: v for k, v in ASSIGNMENT.items() if k != "target_id"}
    exc = rejection(op("assignment", set=partial))
    assert (exc.code, exc.params["field"]) == ("validation.required", "target_id")
    partial = {k: v for k, v in REQUEST.items() if k != "household_id"}
    assert rejection(op("request", set=partial)).params["field"] == "household_id"


def test_create_only_fields_cannot_change_later() -> None:
    exc = rejection(op("assignment", set={"type": "welfare_check"}))
    assert (exc.code, exc.params["field"]) == ("op.create_only", "type")
    exc = rejection(
        op(
            "assignment",
            set={"status": "in_progress", "target_id": "hh-2"},
            seen={"status": "pending"},
        )
    )
    assert exc.code == "op.create_only"
    assert rejection(op("request", set={"created_at": "2022-04-01T08:00:00Z"})).code == (
        "op.create_only"
    )


@pytest.mark.parametrize(
    ("kind", "result"),
    [
        ("nucleic_acid_sampling", {"people_sampled": 3, "people_absent": 1}),
        ("supply_delivery", {"items": "大米 10kg、食用油", "quantity": 2}),
        ("welfare_check", {"condition": "needs_help", "summary": "需代购降压药"}),
        ("flow_investigation", {"contacts_found": 0}),
        ("dispute_handling", {"summary": "邻里噪音纠纷已调解"}),
        ("notice_delivery", {"summary": "已张贴"}),
    ],
)
def test_results_are_checked_against_the_assignment_type(kind: str, result: dict[str, Any]) -> None:
    validate_op(op("assignment", set={"result": result}, seen={"type": kind}))


@pytest.mark.parametrize(
    ("kind", "result", "code", "field"),
    [
        (
            "nucleic_acid_sampling",
            {"people_sampled": -1},
            "validation.number",
            "result.people_sampled",
        ),
        (
            "nucleic_acid_sampling",
            {"people_absent": 1},
            "validation.required",
            "result.people_sampled",
        ),
        ("supply_delivery", {"items": "米", "quantity": "2"}, "validation.type", "result.quantity"),
        ("welfare_check", {"condition": "fine"}, "validation.enum", "result.condition"),
        (
            "flow_investigation",
            {"contacts_found": 1, "people_sampled": 2},
            "op.unknown_field",
            "result.people_sampled",
        ),
        ("other", {}, "validation.required", "result.summary"),
        ("other", "done", "validation.type", "result"),
    ],
)
def test_bad_results_are_refused(kind: str, result: Any, code: str, field: str) -> None:
    exc = rejection(op("assignment", set={"result": result}, seen={"type": kind}))
    assert (exc.code, exc.params["field"]) == (code, field)


def test_a_result_needs_the_assignment_type() -> None:
    exc = rejection(op("assignment", set={"result": {"summary": "ok"}}))
    assert (exc.code, exc.params["field"]) == ("op.missing_context", "type")
    validate_op(op("assignment", set={"result": None}))


def test_request_due_is_derived_from_urgency_and_creation_time() -> None:
    created = {"created_at": "2022-04-01T08:00:00Z"}
    validate_op(
        op("request", set={"urgency": "emergency", "due": "2022-04-01T09:00:00Z"}, seen=created)
    )
    validate_op(
        op("request", set={"urgency": "routine", "due": "2022-04-02T08:00:00Z"}, seen=created)
    )
    wrong = op("request", set={"urgency": "emergency", "due": "2022-04-01T12:00:00Z"}, seen=created)
    assert rejection(wrong).code == "validation.derived"
    assert (
        rejection(op("request", set={"urgency": "urgent"}, seen=created)).params["field"] == "due"
    )
    assert (
        rejection(op("request", set={"due": "2022-04-01T12:00:00Z"}, seen=created)).params["field"]
        == "urgency"
    )
    blind = op("request", set={"urgency": "urgent", "due": "2022-04-01T12:00:00Z"})
    assert rejection(blind).code == "op.missing_context"
    assert rejection(op("request", set={**REQUEST, "due": "2022-04-01T13:00:00Z"})).code == (
        "validation.derived"
    )


def test_shift_must_end_after_it_starts() -> None:
    exc = rejection(
        op(
            "shift",
            set={
                "team_id": "tm-1",
                "starts": "2022-04-01T08:00:00Z",
                "ends": "2022-04-01T08:00:00Z",
            },
        )
    )
    assert (exc.code, exc.params["field"]) == ("validation.time_order", "ends")
    validate_op(op("shift", set={"ends": "2022-04-01T07:00:00Z"}))


def test_notices_and_the_directory_are_read_only_on_devices() -> None:
    for kind in ("notice", "contact"):
        with pytest.raises(OpRejected) as info:
            check_device_writable(kind)
        assert info.value.code == "op.read_only_kind"
    for kind in ("household", "assignment", "request", "resident"):
        check_device_writable(kind)
    with pytest.raises(OpRejected):
        check_device_writable("spaceship")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
field_names = st.sampled_from(
    ("status", "type", "result", "due", "urgency", "created_at", "phone", "care_flags", "visits")
)


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from((*KINDS, "spaceship")),
    sets=st.dictionaries(field_names | st.text(max_size=6), json_values, max_size=4),
    seen=st.dictionaries(field_names, json_values, max_size=2),
    children=st.lists(
        st.dictionaries(st.sampled_from(("id", "at", "member", "outcome", "text")), json_values),
        max_size=3,
    ),
    child_name=st.sampled_from(("visits", "notes", "handover", "x")),
)
def test_any_wire_op_is_either_valid_or_refused_with_a_coded_error(
    kind: str, sets: dict[str, Any], seen: dict[str, Any], children: list[Any], child_name: str
) -> None:
    raw: dict[str, Any] = {
        "i": "op-1",
        "k": kind,
        "e": "e-1",
        "t": "001648800000000:00000",
        "d": "dev-a",
        "m": "mb-1",
    }
    raw |= {"s": sets, "p": seen}
    if children:
        raw["a"] = {child_name: [{"id": "c-1", **c} for c in children]}
    try:
        validate_op(Op.from_dict(raw))
    except LinliError as exc:
        assert exc.describe("en") != f"error.{exc.code}"


def test_an_op_from_a_newer_schema_is_not_judged_but_named() -> None:
    from sync.domain.schema import SCHEMA_VERSION

    newer = Op(
        "op-9",
        "assignment",
        "as-1",
        "000001648800000:00000",
        "dv-1",
        "mb-1",
        set={"status": "in_progress", "colour": "blue"},
        seen={"status": "pending"},
        schema=SCHEMA_VERSION + 1,
    )
    with pytest.raises(OpRejected) as err:
        validate_op(newer)
    assert err.value.code == "op.schema_too_new"
    assert err.value.params == {"schema": SCHEMA_VERSION + 1, "known": SCHEMA_VERSION}
