"""One wrong clock never breaks a phone: the corrected clock, the outbox re-stamp over a real
encrypted store, the engine keeping ``op.clock_ahead`` ops, and the phone's clock warning.

Only the clocks (wall, monotonic) and the server at the transport edge are faked.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.i18n import language, set_language
from app.services.device import Device
from app.services.sync_service import SyncService
from app.store import LocalStore
from app.viewmodels.sync_screen import SyncScreenViewModel
from sync import hlc
from sync.client import SyncEngine
from sync.domain import changes
from sync.hlc import AHEAD_WINDOW_MS, SAFE_AHEAD_MS, HybridClock, ServerTime
from sync.merge import CLOCK
from sync.ops import Op
from tests.unit.client.fakes import FakeServerTransport, MemoryOutbox
from tests.unit.store.helpers import PIN, make_op, resident_op
from tests.unit.viewmodels.phone import RecordingNavigator

SERVER_MS = 1_700_000_000_000
YEAR_2100_MS = 4_102_444_800_000


class Clocks:
    """A fake wall clock and monotonic clock (seconds)."""

    def __init__(self, wall: int) -> None:
        self.wall_ms, self.mono_s = wall, 100.0

    def wall(self) -> int:
        return self.wall_ms

    def monotonic(self) -> float:
        return self.mono_s


class ClockCheckingServer(FakeServerTransport):
    """The fake server judging clocks as the real one does (``op.clock_ahead``)."""

    def __init__(self) -> None:
        super().__init__(reject=self._too_far)

    def _too_far(self, op: Op) -> str | None:
        return (
            "op.clock_ahead" if hlc.wall_of(op.hlc) > self.server_time + AHEAD_WINDOW_MS else None
        )


def _server_time(clocks: Clocks) -> ServerTime:
    return ServerTime(clocks.wall, clocks.monotonic)


# ---------------------------------------------------------------- clock


def test_a_2100_clock_is_wound_back_once_the_server_time_is_known() -> None:
    clocks = Clocks(YEAR_2100_MS)
    server = _server_time(clocks)
    clock = HybridClock(last=hlc.encode(YEAR_2100_MS, 7), server=server)
    assert hlc.wall_of(clock.now()) == YEAR_2100_MS  # nothing known yet: the phone's own time
    server.saw(SERVER_MS)
    stamp = clock.now()
    assert hlc.wall_of(stamp) == SERVER_MS  # stamps from the server's time, not 2100
    assert clock.take_rewound() and not clock.take_rewound()
    clocks.mono_s += 60  # a minute later, whatever the wall clock says
    later = clock.now()
    assert later > stamp and hlc.wall_of(later) == SERVER_MS + 60_000
    assert hlc.wall_of(clock.last) <= SERVER_MS + 60_000 + AHEAD_WINDOW_MS  # what is persisted


def test_the_clock_follows_the_phone_within_the_margin_and_never_lags_the_server() -> None:
    clocks = Clocks(SERVER_MS + SAFE_AHEAD_MS - 1)
    server = _server_time(clocks)
    server.saw(SERVER_MS)
    clock = HybridClock(server=server)
    assert hlc.wall_of(clock.now()) == SERVER_MS + SAFE_AHEAD_MS - 1  # a little fast: kept
    assert not server.local_is_wrong()
    clocks.wall_ms = SERVER_MS - 3 * 3600_000  # three hours slow
    assert hlc.wall_of(clock.now()) == SERVER_MS + SAFE_AHEAD_MS - 1  # HLC never goes back
    assert server.wall() == SERVER_MS and server.local_is_wrong()


def test_an_unsigned_time_warns_but_never_moves_the_clock() -> None:
    clocks = Clocks(YEAR_2100_MS)
    server = _server_time(clocks)
    server.saw(SERVER_MS, trusted=False)
    assert server.local_is_wrong() and server.skew() == YEAR_2100_MS - SERVER_MS
    assert server.now() is None and server.ceiling() is None
    assert hlc.wall_of(HybridClock(server=server).now()) == YEAR_2100_MS


# ---------------------------------------------------------------- store re-stamp


def test_restamp_keeps_ids_and_order_and_corrects_records_in_one_write(tmp_path: Path) -> None:
    wrong = HybridClock(clock=lambda: YEAR_2100_MS)
    store = LocalStore.create(tmp_path / "store", PIN)
    ops = [
        resident_op(wrong, "r-1", "张秀英", "13912345678"),
        make_op(wrong, "resident", "r-1", set={"care_note": "已电话联系"}),
        make_op(wrong, "resident", "r-2", set={"name": "李建国"}),
    ]
    store.record_changes(ops)
    store.acknowledge([ops[2].op_id])  # left by an older app: a 2100 stamp, no pending op
    fixed = HybridClock(clock=lambda: SERVER_MS)
    floor = hlc.encode(SERVER_MS, 0)
    assert store.restamp([o.op_id for o in ops[:2]], fixed.now, SERVER_MS + AHEAD_WINDOW_MS, floor)
    store.close()

    store = LocalStore.open(tmp_path / "store", PIN)  # durable
    pending = store.pending_ops()
    assert [o.op_id for o in pending] == [o.op_id for o in ops[:2]]
    assert all(hlc.wall_of(o.hlc) == SERVER_MS for o in pending)
    assert pending[0].hlc < pending[1].hlc  # their order is kept
    assert [o.set for o in pending] == [o.set for o in ops[:2]]
    r1, r2 = store.get("resident", "r-1"), store.get("resident", "r-2")
    assert r1 is not None and r2 is not None
    assert r1["care_note"] == "已电话联系" and r2["name"] == "李建国"  # nothing local lost
    assert r1[CLOCK]["name"] == f"{pending[0].hlc}@{pending[0].device}"
    assert r1[CLOCK]["care_note"] == f"{pending[1].hlc}@{pending[1].device}"
    assert r2[CLOCK]["name"] == f"{floor}@{ops[2].device}"
    store.close()


def test_restamp_corrects_child_stamps(tmp_path: Path) -> None:
    wrong = HybridClock(clock=lambda: YEAR_2100_MS)
    store = LocalStore.create(tmp_path / "store", PIN)
    me = {"clock": wrong, "device": "dev-1", "member": "m-1"}
    created = store.record_change(changes.new_request("hh-1", "medicine", "urgent", **me))
    op = changes.add_note(created, "已送药上门", **me)
    store.record_change(op)
    fixed = HybridClock(clock=lambda: SERVER_MS)
    pending = [o.op_id for o in store.pending_ops()]
    store.restamp(pending, fixed.now, SERVER_MS, hlc.encode(SERVER_MS, 0))
    record = store.get("request", created["id"])
    assert record is not None
    assert record["notes"][0][CLOCK] == f"{store.pending_ops()[1].hlc}@dev-1"
    assert all(hlc.wall_of(s.partition("@")[0]) == SERVER_MS for s in record[CLOCK].values())
    store.close()


# ---------------------------------------------------------------- engine


def test_the_engine_keeps_clock_ahead_ops_queued() -> None:
    server = ClockCheckingServer()
    outbox = MemoryOutbox()
    server.add_code("QW3E-R4TY-U5IO", "mem-1")
    engine = SyncEngine(outbox)
    identity = engine.enroll(server, "QW3E-R4TY-U5IO", "phone")
    wrong = HybridClock(clock=lambda: YEAR_2100_MS)
    op = changes.new_request(
        "hh-1", "medicine", "urgent", "降压药", clock=wrong, device=identity.device_id, member="m"
    )
    outbox.pending = [op]
    summary = engine.sync()
    assert summary.clock_ahead == [op.op_id] and summary.rejected == []
    assert [o.op_id for o in outbox.pending] == [op.op_id]  # not dropped
    assert engine.rejections() == []


# ---------------------------------------------------------------- phone


@pytest.mark.parametrize(("lang", "words"), [("en", "clock is wrong"), ("zh-CN", "时间不对")])
def test_a_phone_with_a_2100_clock_keeps_its_change_and_says_its_clock_is_wrong(
    tmp_path: Path, lang: str, words: str
) -> None:
    server = ClockCheckingServer()
    server.add_code("QW3E-R4TY-U5IO", "mem-1")
    clocks = Clocks(SERVER_MS)
    device = Device(
        tmp_path / "phone",
        transport_factory=lambda url: server,
        wall=clocks.wall,
        monotonic=clocks.monotonic,
    )
    device.enroll("http://127.0.0.1:9", "QW3E-R4TY-U5IO", PIN)
    device.lock()
    clocks.wall_ms = YEAR_2100_MS
    device = Device(
        tmp_path / "phone",
        transport_factory=lambda url: server,
        wall=clocks.wall,
        monotonic=clocks.monotonic,
    )
    device.unlock(PIN)
    op = changes.new_request("hh-1", "medicine", "urgent", "降压药", **device.author())
    device.record(op)
    sync = SyncService(device, wall_ms=clocks.wall)
    vm = SyncScreenViewModel(sync, RecordingNavigator())
    before = language()
    set_language(lang)
    try:
        assert vm.clock_warning is None
        summary = sync.sync_now()
        assert summary is not None and summary.acked == 1 and summary.clock_ahead == []
        assert device.require_store().pending_count() == 0
        assert [o.op_id for o in server.log] == [op.op_id]  # same op id, sent again
        assert hlc.wall_of(server.log[0].hlc) == SERVER_MS
        assert vm.clock_warning is not None and words in vm.clock_warning
        clocks.wall_ms = SERVER_MS  # the date is set right
        sync.sync_now()
        assert vm.clock_warning is None
    finally:
        set_language(before)
        vm.close()
