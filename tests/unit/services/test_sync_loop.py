"""Races in the background sync loop, each pinned by a test that failed before its fix.

The phone is real (encrypted store, engine, device session); the server is the fake at the
transport edge from the client tests, with a gate to hold a sync mid-flight.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from app.services.device import Device
from app.services.sync_service import SyncService
from sync.client import TransportResponse
from sync.errors import StoreLocked
from tests.unit.services.test_device import PIN, FakeFlakyServer, enrolled, new_request, wait_for


@dataclass
class GatedServer(FakeFlakyServer):
    """The fake server, counting probes; while ``gate`` is set, a POST waits for it to open."""

    probes: int = 0
    gate: threading.Event | None = None
    entered: threading.Event = field(default_factory=threading.Event)

    def reachable(self, timeout: float = 2.0) -> bool:
        self.probes += 1
        return super().reachable(timeout)

    def post(self, path: str, body: bytes, content_type: str) -> TransportResponse:
        gate = self.gate
        if gate is not None:
            self.entered.set()
            gate.wait(5)
        return super().post(path, body, content_type)


def gated(tmp_path: Path) -> tuple[Device, GatedServer]:
    server = GatedServer()
    device, _ = enrolled(tmp_path, server)
    return device, server


def test_a_change_made_while_a_manual_sync_runs_is_sent_when_it_ends(tmp_path: Path) -> None:
    # Before: the loop, woken by the change, found the manual sync holding the run lock, gave
    # up, and slept probe_max_s (60 s in the app) with the change still pending.
    device, server = gated(tmp_path)
    service = SyncService(device, probe_min_s=0.01, probe_max_s=30.0)
    service.sync_now()  # nothing pending, not stale: the loop has nothing to do
    ending = threading.Event()

    def linger() -> None:  # the manual sync's last status update, still holding the run lock
        if ending.is_set() and threading.current_thread() is manual and not service.status.syncing:
            ending.clear()
            time.sleep(0.3)  # long enough for the loop, woken by the sync's writes, to try

    service.subscribe(linger)
    manual = threading.Thread(target=service.sync_now)
    service.start()
    try:
        wait_for(lambda: server.probes >= 1)
        time.sleep(0.2)  # the loop's first round ends: nothing due, it sleeps probe_max_s
        server.gate = threading.Event()
        manual.start()
        assert server.entered.wait(5)  # the manual sync is talking to the server
        new_request(device)  # a change while it runs: wakes the loop
        time.sleep(0.3)  # the loop reaches its sync while the manual one still runs
        ending.set()
        server.gate.set()
        server.gate = None
        manual.join(5)
        wait_for(lambda: service.status.pending == 0, timeout=3)
        assert [op.kind for op in server.log] == ["request"]
    finally:
        service.stop()


def test_the_loop_survives_a_lock_landing_while_it_reads_the_outbox(tmp_path: Path) -> None:
    # Before: the store closed between the loop reading device.store and counting its outbox;
    # StoreLocked escaped the loop and the phone never synced by itself again.
    device, server = gated(tmp_path)
    store = device.store
    assert store is not None
    count = store.pending_count
    locked_once = threading.Event()

    def pending_count() -> int:
        if threading.current_thread().name == "linli-sync" and not locked_once.is_set():
            locked_once.set()
            device.lock()  # the idle lock lands here
        return count()

    store.pending_count = pending_count  # type: ignore[method-assign]
    service = SyncService(device, probe_min_s=0.01, probe_max_s=0.05)
    service.start()
    try:
        assert locked_once.wait(5)
        wait_for(lambda: device.state == "locked")
        device.unlock(PIN)
        new_request(device)
        wait_for(lambda: [op.kind for op in server.log] == ["request"])
        wait_for(lambda: service.status.pending == 0)
    finally:
        service.stop()


def test_a_failing_sync_backs_off_instead_of_retrying_every_probe_min(tmp_path: Path) -> None:
    # Before: a server that answered the probe but refused the sync was asked every probe_min_s.
    device, server = gated(tmp_path)
    server.drop_requests = 10_000
    service = SyncService(device, probe_min_s=0.01, probe_max_s=0.64)
    new_request(device)
    service.start()
    try:
        time.sleep(1.0)
    finally:
        service.stop()
    # windows 0.01, 0.02, 0.04 … 0.64 s, floored at 0.01: well under 30 tries in a second
    assert 3 <= server.probes < 30, server.probes


def test_a_change_wakes_the_loop_even_if_counting_the_outbox_fails(tmp_path: Path) -> None:
    # Before: the change handler counted the outbox first and woke the loop after; when the
    # count failed (the store closing at that moment) the wake was lost until probe_max_s.
    device, server = gated(tmp_path)
    service = SyncService(device, probe_min_s=0.01, probe_max_s=30.0)
    service.sync_now()
    service.start()
    try:
        wait_for(lambda: server.probes >= 1)
        time.sleep(0.2)  # the loop's first round ends: nothing due, it sleeps probe_max_s
        store = device.store
        assert store is not None
        count = store.pending_count
        failed = threading.Event()

        def pending_count() -> int:
            if not failed.is_set():
                failed.set()
                raise StoreLocked()
            return count()

        store.pending_count = pending_count  # type: ignore[method-assign]
        new_request(device)
        assert failed.is_set()
        wait_for(lambda: [op.kind for op in server.log] == ["request"], timeout=3)
    finally:
        service.stop()
