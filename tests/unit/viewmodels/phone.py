"""A volunteer's or a team lead's phone for the view-model tests: a real Device over a real
encrypted LocalStore in tmp_path, records put on it the way a pull does (``apply_remote``), a
recording navigator, and what building a screen without a browser needs.

The only fakes sit at the transport edge: :class:`OfflineTransport` (the server cannot be
reached) and the client tests' ``FakeServerTransport`` (an in-process server running the real
protocol code). The fixtures built from these are in ``conftest.py``. Every name, phone and
address is invented.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app import i18n
from app.services.device import META_IDENTITY, Device
from app.store import LocalStore
from sync.client import Identity, TransportResponse
from sync.domain import changes, to_iso
from sync.errors import SyncError
from sync.hlc import HybridClock
from sync.protocol import DeviceKeys, ServerKeys
from tests.unit.client.fakes import Device as FakeServerDevice
from tests.unit.client.fakes import FakeServerTransport

PIN = "246810"
TEAM = "tm-guanhai"
TEAM_NAME = "观海轩第一志愿服务队"
OTHER_TEAM = "tm-other"
COMMUNITY = "pl-c"
ME = "mb-zhang"
LEAD = "mb-li"
MATE = "mb-wang"
#: 10:00 UTC is 18:00 in Shanghai, the phones' time zone in these tests
NOW = datetime(2022, 4, 12, 10, 0, tzinfo=UTC)


def at(hours: float) -> str:
    """A record time ``hours`` after (negative: before) :data:`NOW`."""
    return to_iso(NOW + timedelta(hours=hours))


def fixed_now() -> datetime:
    return NOW


def field_env(monkeypatch: pytest.MonkeyPatch, lang: str = "zh-CN") -> None:
    """Run the test in the phones' time zone (local times and "today" depend on it) and in
    ``lang``; both are put back afterwards (tzset runs again at teardown via ``restore_tz``)."""
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    monkeypatch.setattr(i18n, "_current", lang)


def restore_tz() -> None:
    time.tzset()


@dataclass
class RecordingNavigator:
    routes: list[str] = field(default_factory=list)
    backs: int = 0
    notices: list[tuple[str, bool]] = field(default_factory=list)
    refreshes: int = 0

    def go(self, route: str) -> None:
        self.routes.append(route)

    def back(self) -> None:
        self.backs += 1

    def notify(self, message: str, *, error: bool = False) -> None:
        self.notices.append((message, error))

    def refresh(self) -> None:
        self.refreshes += 1


class OfflineTransport:
    """A transport whose server never answers."""

    def post(self, path: str, body: bytes, content_type: str) -> TransportResponse:
        raise SyncError("sync.unreachable", reason="offline")

    def get(self, path: str) -> TransportResponse:
        raise SyncError("sync.unreachable", reason="offline")


def identity(
    server: FakeServerTransport | None = None,
    *,
    role: str = "team_lead",
    member_id: str = LEAD,
    name: str = "李建国",
    team_id: str | None = TEAM,
    device_id: str | None = None,
) -> Identity:
    """An enrolled identity (the team lead's unless told); registered with ``server`` if given."""
    device_id = device_id or f"dev-{member_id}"
    keys = DeviceKeys.generate()
    server_keys = server.keys if server is not None else ServerKeys.generate()
    if server is not None:
        server.devices[device_id] = FakeServerDevice(
            keys.signing.public_bytes(), keys.sealing.public_bytes()
        )
    return Identity(
        device_id=device_id,
        member_id=member_id,
        name=name,
        role=role,
        team_id=team_id,
        keys=keys,
        server_signing_public=server_keys.signing.public_bytes(),
        server_sealing_public=server_keys.sealing.public_bytes(),
        server_url="http://127.0.0.1:8800",
        enrolled_at=1_649_750_000_000,
    )


def open_phone(
    path: Path,
    ident: Identity | None = None,
    transport: Any = None,
    *,
    role: str = "volunteer",
    member_id: str = ME,
    team_id: str | None = TEAM,
    server: FakeServerTransport | None = None,
) -> Device:
    """An unlocked Device whose store holds ``ident`` (as if enrolled earlier); without one, a
    volunteer's (or ``role``'s) identity, registered with ``server`` when given."""
    if ident is None:
        ident = identity(server, role=role, member_id=member_id, name="张秀英", team_id=team_id)
    store = LocalStore.create(path, PIN)
    store.set_meta(META_IDENTITY, ident.to_dict())
    store.close()
    answer = transport or server or OfflineTransport()
    device = Device(path, transport_factory=lambda url: answer)
    device.unlock(PIN)
    return device


#: the status path from pending to each status, as it would have happened elsewhere
_PATHS: dict[str, tuple[str, ...]] = {
    "pending": (),
    "in_progress": ("in_progress",),
    "done": ("in_progress", "done"),
    "no_answer": ("no_answer",),
    "refused": ("refused",),
    "revisit": ("no_answer", "revisit"),
    "cancelled": ("cancelled",),
}
_REQUEST_PATHS: dict[str, tuple[str, ...]] = {
    "new": (),
    "acknowledged": ("acknowledged",),
    "in_progress": ("acknowledged", "in_progress"),
    "resolved": ("acknowledged", "in_progress", "resolved"),
    "confirmed": ("acknowledged", "in_progress", "resolved", "confirmed"),
    "cancelled": ("cancelled",),
}


class Seeder:
    """Puts records on the phone the way a pull does, authored by the server."""

    def __init__(self, device: Device) -> None:
        self.device = device
        self.clock = HybridClock()
        self.cursor = 0

    @property
    def store(self) -> LocalStore:
        return self.device.require_store()

    def _apply(self, op: Any) -> dict[str, Any]:
        self.cursor += 1
        self.store.apply_remote([op], str(self.cursor))
        # The phone's clock has seen the pulled change: its own next change is newer, even
        # within the same millisecond (the seeder's clock may have counted ahead in it).
        self.device.clock.observe(op.hlc)
        record = self.device.get(op.kind, op.entity_id)
        assert record is not None
        return record

    def put(self, kind: str, entity_id: str | None = None, /, **values: Any) -> dict[str, Any]:
        current = self.device.get(kind, entity_id) if entity_id else None
        op = changes.make_op(
            kind,
            entity_id,
            set=values,
            current=current,
            clock=self.clock,
            device="dev-server",
            member="mb-admin",
        )
        return self._apply(op)

    def team(self, team_id: str = TEAM, name: str = TEAM_NAME) -> dict[str, Any]:
        return self.put(
            "team", team_id, name=name, kind="neighbour_service", community_id=COMMUNITY
        )

    def member(
        self, member_id: str, name: str, role: str = "volunteer", team_id: str = TEAM
    ) -> dict[str, Any]:
        return self.put("member", member_id, name=name, role=role, team_id=team_id)

    def crew(self) -> None:
        """The team with me, its lead and a mate, and a volunteer of another team."""
        self.team()
        self.member(ME, "张秀英")
        self.member(LEAD, "李建国", "team_lead")
        self.member(MATE, "王桂兰")
        self.member("mb-zhao", "赵志强", team_id=OTHER_TEAM)

    def household(
        self, household_id: str, building: str, unit: str, room: str, **extra: Any
    ) -> dict[str, Any]:
        return self.put(
            "household",
            household_id,
            place_id="pl-unit",
            building=building,
            unit=unit,
            room=room,
            address=f"观海轩 {building} {unit} {room}",
            **extra,
        )

    def resident(self, resident_id: str, household_id: str, name: str, **extra: Any) -> None:
        self.put("resident", resident_id, household_id=household_id, name=name, **extra)

    def assignment(
        self,
        assignment_id: str,
        target: str = "hh-1",
        status: str = "pending",
        *,
        assignee: str | None = ME,
        type: str = "nucleic_acid_sampling",
        team_id: str = TEAM,
        **values: Any,
    ) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "type": type,
            "target_kind": "household",
            "target_id": target,
            "team_id": team_id,
            "title": "核酸采样上门",
            **values,
        }
        if assignee is not None:
            fields["assignee_id"] = assignee
        record = self.put("assignment", assignment_id, **fields)
        for step in _PATHS[status]:
            extra = {"revisit_due": values.get("revisit_due", at(2))} if step == "no_answer" else {}
            record = self.put("assignment", assignment_id, status=step, **extra)
        return record

    def visit(self, assignment_id: str, outcome: str, hours: float) -> None:
        current = self.device.get("assignment", assignment_id)
        assert current is not None
        op = changes.record_visit(
            current,
            outcome,
            clock=self.clock,
            device="dev-server",
            member=MATE,
            at=at(hours),
        )
        self._apply(op)

    def request(
        self,
        request_id: str,
        urgency: str,
        *,
        created_hours: float = -1,
        household: str = "hh-1",
        team_id: str | None = TEAM,
        status: str = "new",
        assignee: str | None = None,
        category: str = "medicine",
    ) -> dict[str, Any]:
        op = changes.new_request(
            household,
            category,
            urgency,
            "需要降压药",
            clock=self.clock,
            device="dev-server",
            member="mb-admin",
            team_id=team_id,
            created_at=at(created_hours),
            entity_id=request_id,
        )
        record = self._apply(op)
        for step in _REQUEST_PATHS[status]:
            record = self.put("request", request_id, status=step)
        if assignee is not None:
            record = self.put("request", request_id, assignee_id=assignee)
        return record

    def shift(
        self, shift_id: str, starts: float, ends: float, team_id: str = TEAM
    ) -> dict[str, Any]:
        return self.put("shift", shift_id, team_id=team_id, starts=at(starts), ends=at(ends))


# -- building screens without a browser ------------------------------------------


class FakePage:
    """Stands in for the Flet page when a screen is built in a test (nothing is drawn)."""

    data = None

    def update(self) -> None:
        return None

    def run_thread(self, work: Any) -> None:
        work()


@dataclass
class FakeRouter(RecordingNavigator):
    current: str | None = None


_CHILDREN = ("content", "controls", "title", "subtitle", "leading", "trailing", "appbar")


def nodes(control: Any) -> list[Any]:
    """Every control in a tree, parents before their children."""
    out: list[Any] = []
    seen: set[int] = set()

    def walk(node: Any) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        out.append(node)
        for name in _CHILDREN:
            child = getattr(node, name, None)
            if isinstance(child, list):
                for item in child:
                    walk(item)
            elif child is not None and not isinstance(child, str) and hasattr(child, "__dict__"):
                walk(child)

    walk(control)
    return out


def texts(control: Any) -> list[str]:
    """Every text value in a control tree (``ft.Text`` values, labels, button captions)."""
    import flet as ft

    out: list[str] = []
    for node in nodes(control):
        if isinstance(node, ft.Text) and isinstance(node.value, str):
            out.append(node.value)
        if isinstance(node, ft.TextField) and isinstance(node.label, str):
            out.append(node.label)
        out += [v for v in (getattr(node, name, None) for name in _CHILDREN) if isinstance(v, str)]
    return out
