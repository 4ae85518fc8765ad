"""The phone session and the background sync, over a real encrypted store.

The server is the fake at the transport edge from the client tests (it runs the real protocol
codec); the end-to-end versions against a real server process live in tests/browser.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from app.services.device import Device
from app.services.sync_service import SyncService
from sync.domain import changes
from sync.errors import StoreLocked, ValidationError, WrongPin
from tests.unit.client.fakes import FakeServerTransport, Problem

CODE = "QW3E-R4TY-U5IO"
PIN = "246810"


class FakeFlakyServer(FakeServerTransport):
    """The fake server, with a switch for whether the phone can reach it."""

    up: bool = True

    def reachable(self, timeout: float = 2.0) -> bool:
        return self.up


def enrolled(
    tmp_path: Path, server: FakeFlakyServer | None = None
) -> tuple[Device, FakeFlakyServer]:
    server = server or FakeFlakyServer()
    server.add_code(CODE, "mem-1")
    device = Device(tmp_path / "phone", transport_factory=lambda url: server)
    device.enroll("http://127.0.0.1:9", CODE, PIN)
    return device, server


def new_request(device: Device, urgency: str = "urgent") -> None:
    op = changes.new_request("hh-1", "medicine", urgency, "降压药", **device.author())
    device.record(op)


def wait_for(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")


def test_enroll_creates_an_encrypted_store_and_keeps_the_identity(tmp_path: Path) -> None:
    device, _ = enrolled(tmp_path)
    assert device.state == "unlocked"
    assert device.member_id == "mem-1" and device.role == "volunteer"
    device.lock()
    assert device.state == "locked"
    with pytest.raises(StoreLocked):
        device.require_store()
    with pytest.raises(WrongPin):
        device.unlock("000000")
    device.unlock(PIN)
    assert device.identity is not None and device.identity.server_url == "http://127.0.0.1:9"


def test_a_bad_pin_is_refused_before_the_code_is_spent(tmp_path: Path) -> None:
    server = FakeFlakyServer()
    server.add_code(CODE, "mem-1")
    device = Device(tmp_path / "phone", transport_factory=lambda url: server)
    with pytest.raises(ValidationError):
        device.enroll("http://127.0.0.1:9", CODE, "1")
    assert server.codes, "the one-time code must still be unused"
    assert device.state == "setup"


def test_changes_are_durable_then_synced(tmp_path: Path) -> None:
    device, server = enrolled(tmp_path)
    new_request(device)
    assert device.require_store().pending_count() == 1
    device.lock()
    device.unlock(PIN)  # survives closing the store
    assert device.require_store().pending_count() == 1
    summary = device.sync()
    assert summary.acked == 1
    assert device.require_store().pending_count() == 0
    assert [op.kind for op in server.log] == ["request"]


def test_idle_phone_reports_expiry(tmp_path: Path) -> None:
    now = [0.0]
    server = FakeFlakyServer()
    server.add_code(CODE, "mem-1")
    device = Device(
        tmp_path / "p",
        transport_factory=lambda url: server,
        idle_lock_s=60,
        monotonic=lambda: now[0],
    )
    device.enroll("http://x.invalid", CODE, PIN)
    now[0] = 59
    assert not device.idle_expired()
    device.touch()
    now[0] = 118
    assert not device.idle_expired()
    now[0] = 200
    assert device.idle_expired()


def test_background_sync_waits_for_the_server_then_sends(tmp_path: Path) -> None:
    device, server = enrolled(tmp_path)
    server.up = False
    service = SyncService(device, probe_min_s=0.01, probe_max_s=0.05)
    service.start()
    try:
        new_request(device)
        wait_for(lambda: service.status.online is False and service.status.pending == 1)
        assert server.log == []
        server.up = True
        wait_for(
            lambda: (
                service.status.pending == 0
                and service.status.online is True
                and not service.status.syncing
            )  # the outbox empties before the sync has finished
        )
        assert len(server.log) == 1
        assert service.status.last_sync_ms is not None
    finally:
        service.stop()


def test_verified_revocation_wipes_the_phone(tmp_path: Path) -> None:
    device, server = enrolled(tmp_path)
    new_request(device)
    assert device.identity is not None
    server.problems.append(Problem(403, "sync.revoked", device=device.identity.device_id))
    told: list[str] = []
    service = SyncService(device, on_wiped=told.append)
    assert service.sync_now() is None
    assert told == ["revoked"]
    assert device.state == "setup"
    phone = tmp_path / "phone"
    assert (list(phone.iterdir()) if phone.exists() else []) == []


def test_a_retired_phone_sends_everything_then_wipes_and_says_why(tmp_path: Path) -> None:
    device, server = enrolled(tmp_path)
    for urgency in ("urgent", "routine", "urgent", "routine"):
        new_request(device, urgency)
    server.wipe = "retired"
    told: list[str] = []
    service = SyncService(device, on_wiped=told.append)
    summary = service.sync_now()
    assert summary is not None and summary.acked == 4 and summary.wipe == "retired"
    assert len(server.log) == 4  # every change reached the server before the wipe
    assert told == ["retired"] and device.state == "setup" and device.wiped_reason == "retired"
    phone = tmp_path / "phone"
    assert (list(phone.iterdir()) if phone.exists() else []) == []


def test_a_phone_told_to_wipe_keeps_its_data_while_a_change_is_still_to_send(
    tmp_path: Path,
) -> None:
    device, server = enrolled(tmp_path)
    new_request(device)
    new_request(device, "routine")
    server.wipe = "revoked"
    server.reject = lambda op: "op.clock_ahead"  # a temporary refusal: the change stays queued
    told: list[str] = []
    service = SyncService(device, on_wiped=told.append)
    summary = service.sync_now()
    assert summary is not None and summary.wipe == "revoked"
    assert told == [] and device.state == "unlocked"
    assert device.require_store().pending_count() == 2  # nothing wiped with pending changes
    assert service.status.leaving == "revoked" and service.status.pending == 2
    server.reject = lambda op: "sync.device_revoked"  # handed over for review
    assert service.sync_now() is not None
    assert told == ["revoked"] and device.state == "setup"


def test_a_pulled_change_from_the_future_still_loses_to_the_next_local_edit(tmp_path: Path) -> None:
    device, server = enrolled(tmp_path)
    other = changes.new_request("hh-2", "food_goods", "routine", "米面", **device.author())
    # Another phone's clock runs an hour ahead: its stamp is later than anything here.
    from dataclasses import replace as dc_replace

    from sync import hlc

    ahead = hlc.encode(hlc.decode(other.hlc)[0] + 3_600_000, 0)
    server.log.append(dc_replace(other, hlc=ahead, device="dev-other"))
    device.sync()
    pulled = device.get("request", other.entity_id)
    assert pulled is not None and pulled["status"] == "new"
    device.change("request", other.entity_id, set={"status": "acknowledged"})
    mine = device.get("request", other.entity_id)
    assert mine is not None and mine["status"] == "acknowledged"


def test_a_failing_subscriber_does_not_stop_the_others() -> None:
    from app.services.observable import Observable

    source, seen = Observable(), []

    def broken() -> None:
        raise RuntimeError("screen gone")

    source.subscribe(broken)
    source.subscribe(lambda: seen.append(1))
    source.changed()
    assert seen == [1]
