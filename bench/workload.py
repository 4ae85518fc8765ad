"""What volunteers record in a shift, as real change ops built from each device's own view.

:class:`Shift` picks one plausible action at a time for a :class:`~bench.harness.Phone` — a door
visit, a status change, a new resident request (a few urgent), a request note, a field edit by a
lead — builds it with the domain's change builders from the record as the phone has it now, and
records it in the phone's store, exactly like the app. Only changes the phone's role may make are
chosen (volunteers: their own assignments, notes and new requests in the team's area; leads and
coordinators: any assignment or request they hold), so the server accepts every one of them:
a refusal in a test is a finding, not noise. ``focus`` names records to prefer, so that several
devices edit the same records concurrently. Every text is invented.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sync.domain import (
    ASSIGNMENT_MACHINE,
    REQUEST_MACHINE,
    add_note,
    is_lead,
    make_op,
    new_request,
    record_visit,
)
from sync.domain import transition as make_transition
from sync.errors import SyncError
from sync.ops import Op

NOTES = (
    "已上门采样，老人行动不便，下次继续上门",
    "家中无人，电话联系后约定下午再来",
    "需要降压药（硝苯地平），已登记代购",
    "独居老人，情绪稳定，冰箱食物充足",
    "孩子发烧 38.2℃，已联系社区医生",
    "物资已送达，居民签收",
    "居民反映楼道消毒不及时，已转告物业",
    "约定明早八点再次上门",
)
REQUEST_TEXTS = (
    ("medicine", "需要胰岛素，家中仅剩两天用量"),
    ("food_goods", "需要大米、食用油和鸡蛋"),
    ("medical_care", "老人血压偏高，需要社区医生上门"),
    ("psychological", "居家隔离情绪焦虑，希望有人聊聊"),
    ("information", "咨询下一轮核酸采样时间"),
    ("food_goods", "婴儿奶粉快用完了"),
)
INSTRUCTIONS = ("请先电话联系再上门", "注意老人听力不好，多敲几次门", "物资放门口，拍照确认")


Action = Callable[[], Op | None]


def result_for(kind_of_work: str, rng: random.Random) -> dict[str, Any]:
    """A plausible ``result`` for an assignment of this type."""
    if kind_of_work == "nucleic_acid_sampling":
        return {"people_sampled": rng.randint(1, 4), "people_absent": rng.randint(0, 1)}
    if kind_of_work == "supply_delivery":
        return {"items": "大米 5kg、食用油 1 桶", "quantity": rng.randint(1, 3)}
    if kind_of_work == "welfare_check":
        return {"condition": rng.choice(("ok", "ok", "ok", "needs_help"))}
    if kind_of_work == "flow_investigation":
        return {"contacts_found": rng.randint(0, 3)}
    return {"summary": rng.choice(NOTES)}


class Shift:
    """Random but valid changes on ``phone``'s records (``weights`` by action name)."""

    DEFAULT_WEIGHTS: Mapping[str, float] = {
        "visit": 35,
        "assignment_status": 8,
        "assignment_edit": 4,
        "request_new": 15,
        "request_status": 14,
        "request_note": 20,
        "request_edit": 4,
        "reassign": 3,
    }

    def __init__(
        self,
        phone: Any,
        rng: random.Random,
        *,
        urgent_rate: float = 0.05,
        weights: Mapping[str, float] | None = None,
        focus: frozenset[str] = frozenset(),
        focus_rate: float = 0.8,
    ) -> None:
        self.phone = phone
        self.rng = rng
        self.urgent_rate = urgent_rate
        self.focus = focus
        self.focus_rate = focus_rate
        self.weights = dict(weights or self.DEFAULT_WEIGHTS)
        self.actions: dict[str, Action] = {
            "visit": self.visit,
            "assignment_status": self.assignment_status,
            "assignment_edit": self.assignment_edit,
            "request_new": self.request_new,
            "request_status": self.request_status,
            "request_note": self.request_note,
            "request_edit": self.request_edit,
            "reassign": self.reassign,
        }
        self.done: dict[str, int] = {}

    # -- what the phone may touch --------------------------------------------------------
    @property
    def is_lead(self) -> bool:
        return is_lead(self.phone.role)

    def _pick(self, kind: str, allowed: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
        records = sorted(
            (r for r in self.phone.store.all(kind) if r.get("status") and allowed(r)),
            key=lambda r: str(r["id"]),
        )
        focused = [r for r in records if r["id"] in self.focus]
        if focused and self.rng.random() < self.focus_rate:
            records = focused  # several devices editing the same few records: conflicts
        return self.rng.choice(records) if records else None

    def _assignment(self) -> dict[str, Any] | None:
        me = self.phone.member_id
        return self._pick("assignment", lambda r: self.is_lead or r.get("assignee_id") == me)

    def _request(self, *, to_change_status: bool = False) -> dict[str, Any] | None:
        me = self.phone.member_id
        if not to_change_status or self.is_lead:
            return self._pick("request", lambda r: True)
        return self._pick("request", lambda r: r.get("assignee_id") == me)

    def _door(self) -> dict[str, Any] | None:
        """A door to visit: mostly one's own, sometimes a teammate's (a visit is a fact, kept
        whoever holds the task: reassignment races and doors visited twice)."""
        if self.is_lead or self.rng.random() < 0.8:
            return self._assignment()
        team = self.phone.identity.team_id
        return self._pick("assignment", lambda r: r.get("team_id") == team)

    # -- actions ---------------------------------------------------------------------------
    def reassign(self) -> Op | None:
        """A lead hands an open door to another member of the team."""
        if not self.is_lead:
            return None
        team = self.phone.identity.team_id
        mates = sorted(
            str(m["id"])
            for m in self.phone.store.all("member")
            if m.get("team_id") == team and m.get("role") == "volunteer"
        )
        record = self._pick(
            "assignment",
            lambda r: r.get("team_id") == team and not ASSIGNMENT_MACHINE.is_final(r["status"]),
        )
        others = [m for m in mates if record is not None and m != record.get("assignee_id")]
        if record is None or not others:
            return None
        return self._make("assignment", record, {"assignee_id": self.rng.choice(others)})

    def visit(self) -> Op | None:
        record = self._door()
        if record is None:
            return None
        outcome = self.rng.choice(("done", "done", "no_answer", "refused", "revisit"))
        result = result_for(str(record["type"]), self.rng) if outcome == "done" else None
        note = self.rng.choice(NOTES) if self.rng.random() < 0.6 else None
        return record_visit(record, outcome, note, result=result, **self.phone.author())

    def assignment_status(self) -> Op | None:
        record = self._assignment()
        if record is None:
            return None
        frm = str(record["status"])
        options = [
            to
            for to in ASSIGNMENT_MACHINE.next_states(frm)
            if self.phone.role in ASSIGNMENT_MACHINE.roles_for(frm, to)
        ]
        if not options:
            return None
        return make_transition(
            "assignment", record, self.rng.choice(sorted(options)), **self.phone.author()
        )

    def assignment_edit(self) -> Op | None:
        record = self._assignment() if self.is_lead else None
        if record is None:
            return None
        values: dict[str, Any] = (
            {"priority": self.rng.choice(("low", "normal", "high", "urgent"))}
            if self.rng.random() < 0.5
            else {"instructions": self.rng.choice(INSTRUCTIONS)}
        )
        return self._make("assignment", record, values)

    def request_new(self) -> Op | None:
        households = sorted(str(h["id"]) for h in self.phone.store.all("household"))
        if not households:
            return None
        category, text = self.rng.choice(REQUEST_TEXTS)
        urgent = self.rng.random() < self.urgent_rate
        urgency = self.rng.choice(("urgent", "emergency")) if urgent else "routine"
        return new_request(
            self.rng.choice(households),
            category,
            urgency,
            text,
            team_id=self.phone.identity.team_id,
            **self.phone.author(),
        )

    def request_status(self) -> Op | None:
        record = self._request(to_change_status=True)
        if record is None:
            return None
        options = REQUEST_MACHINE.next_states(str(record["status"]))
        if not options:
            return None
        return make_transition(
            "request", record, self.rng.choice(sorted(options)), **self.phone.author()
        )

    def request_note(self) -> Op | None:
        record = self._request()
        if record is None:
            return None
        return add_note(record, self.rng.choice(NOTES), **self.phone.author())

    def request_edit(self) -> Op | None:
        record = self._request() if self.is_lead else None
        if record is None:
            return None
        return self._make("request", record, {"description": self.rng.choice(REQUEST_TEXTS)[1]})

    def _make(self, kind: str, record: Mapping[str, Any], values: dict[str, Any]) -> Op:
        return make_op(kind, str(record["id"]), set=values, current=record, **self.phone.author())

    # -- driving ---------------------------------------------------------------------------
    def step(self) -> Op | None:
        """Record one change on the phone (None if the phone had nothing it could change)."""
        # every action at most once, in a weighted random order (Efraimidis–Spirakis keys)
        order = sorted(
            (n for n in sorted(self.weights) if self.weights[n] > 0),
            key=lambda n: self.rng.random() ** (1.0 / self.weights[n]),
            reverse=True,
        )
        for name in order:
            op = self.actions[name]()
            if op is not None:
                self.phone.record(op)
                self.done[name] = self.done.get(name, 0) + 1
                return op
        return None

    def run(self, n: int) -> list[Op]:
        """``n`` changes recorded one after another, each built on the phone's current view."""
        ops: list[Op] = []
        while len(ops) < n:
            op = self.step()
            if op is None:
                held = {k: len(self.phone.store.all(k)) for k in ("household", "assignment")}
                raise RuntimeError(
                    f"{self.phone.device_id} ({self.phone.role}) has nothing it may change: {held}"
                )
            ops.append(op)
        return ops


def shifts_and_syncs(phones: Sequence[Any], syncs: int, rng: random.Random, most: int) -> int:
    """``syncs`` times: a random phone makes up to ``most`` changes of its shift, then syncs.
    Returns how many of those syncs failed (with :class:`~sync.errors.SyncError`)."""
    shifts = [Shift(p, random.Random(rng.random()), urgent_rate=0.1) for p in phones]
    failed = 0
    for _ in range(syncs):
        i = rng.randrange(len(phones))
        shifts[i].run(rng.randint(0, most))
        try:
            phones[i].sync()
        except SyncError:
            failed += 1
    return failed
