"""The sync screen: state, "Sync now", the last summary with rejections and receipts.

The server is the client tests' ``FakeServerTransport``: a fake at the transport edge that runs
the real protocol code (sealed batches, signed receipts).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from app import i18n
from app.services.device import Device
from app.services.sync_service import SyncService
from app.viewmodels.sync_screen import (
    SyncScreenViewModel,
    ms_label,
    rejection_row,
    rejection_text,
)
from sync.ops import Op
from tests.unit.client.fakes import FakeServerTransport
from tests.unit.viewmodels.phone import PIN, RecordingNavigator, Seeder, identity, open_phone

pytestmark = pytest.mark.usefixtures("chinese")


@pytest.fixture
def server() -> FakeServerTransport:
    def refuse_requests(op: Op) -> str | None:
        return "op.bad_transition" if op.kind == "request" else None

    return FakeServerTransport(reject=refuse_requests)


@pytest.fixture
def phone(tmp_path: Path, server: FakeServerTransport) -> Iterator[Device]:
    device = open_phone(tmp_path / "p", identity(server, role="volunteer"), server)
    s = Seeder(device)
    s.assignment("as-1", "hh-1", assignee="mb-li")
    s.request("rq-1", "urgent")
    yield device
    if device.store is not None:
        device.lock()


def make_changes(device: Device) -> None:
    device.change("assignment", "as-1", set={"status": "in_progress"})
    device.change("request", "rq-1", set={"status": "acknowledged"})


def test_state_before_any_sync(phone: Device) -> None:
    vm = SyncScreenViewModel(SyncService(phone), RecordingNavigator())
    assert vm.state_text == "正在检测网络…"
    assert vm.last_sync == "从未同步"
    assert vm.summary is None and vm.receipts == [] and vm.rejections == []


def test_sync_now_shows_sent_received_rejected_and_receipt(
    phone: Device, server: FakeServerTransport
) -> None:
    sync = SyncService(phone)
    vm = SyncScreenViewModel(sync, RecordingNavigator())
    make_changes(phone)
    assert vm.status.pending == 2
    seen: list[tuple[bool, float | None]] = []
    vm.subscribe(lambda: seen.append((vm.status.syncing, vm.status.progress)))

    assert vm.sync_now()

    assert any(syncing and progress is not None for syncing, progress in seen)
    assert vm.status.syncing is False and vm.status.pending == 0
    assert vm.state_text == "在线"
    assert vm.message == "同步完成：发送 1 条，收到 0 条，被拒 1 条。"
    summary = vm.summary
    assert summary is not None
    assert (summary.sent, summary.acked, summary.received, summary.pending) == (2, 1, 0, 0)
    [rejected] = summary.rejected
    assert rejected.code == "op.bad_transition"
    assert rejected.what == "居民诉求：购药"
    assert rejected.text.startswith("记录的状态不能这样更改（居民诉求: ? → ?）")
    assert "请刷新" in rejected.text
    [receipt] = summary.receipts
    assert receipt.ops == 1 and receipt.batch == server.requests[0].batch_id
    assert receipt.server_time == ms_label(server.server_time)
    assert receipt.signature
    # the kept lists (read from the store) show the same
    assert [r.batch for r in vm.receipts] == [receipt.batch]
    assert [r.op_id for r in vm.rejections] == [rejected.op_id]
    assert vm.last_sync != "从未同步"


def test_kept_receipts_and_rejections_show_after_a_restart(phone: Device) -> None:
    make_changes(phone)
    assert SyncScreenViewModel(SyncService(phone), RecordingNavigator()).sync_now()
    phone.change("assignment", "as-1", set={"status": "done"})
    assert SyncScreenViewModel(SyncService(phone), RecordingNavigator()).sync_now()
    phone.lock()
    phone.unlock(PIN)
    vm = SyncScreenViewModel(SyncService(phone), RecordingNavigator())
    assert vm.summary is None  # no sync in this session yet
    assert len(vm.receipts) == 2
    assert vm.receipts[0].batch != vm.receipts[1].batch
    assert len(vm.rejections) == 1 and "居民诉求" in vm.rejections[0].text


def test_offline_sync_now_explains_and_keeps_changes(
    phone: Device, server: FakeServerTransport
) -> None:
    server.drop_requests = 1
    vm = SyncScreenViewModel(SyncService(phone), RecordingNavigator())
    make_changes(phone)
    assert not vm.sync_now()
    assert vm.error and "本机" in vm.error
    assert vm.status.pending == 2 and vm.status.online is False
    assert vm.state_text == "离线（修改都保存在本机）"


def test_rejection_texts() -> None:
    text = rejection_text(
        "op.bad_transition", {"kind": "assignment", "frm": "done", "to": "pending"}, "zh-CN"
    )
    assert "任务: 已完成 → 待处理" in text
    english = rejection_text("op.create_only", {"kind": "request", "field": "created_at"}, "en")
    assert "Resident request" in english and "{" not in english
    role = rejection_text("op.forbidden_role", {"kind": "assignment", "role": "volunteer"}, "zh-CN")
    assert "志愿者" in role and "volunteer" not in role
    unknown = rejection_text("op.from_the_future", {}, "en")
    assert "op.from_the_future" in unknown and "Update the app" in unknown


def test_english(phone: Device) -> None:
    i18n.set_language("en")
    vm = SyncScreenViewModel(SyncService(phone), RecordingNavigator())
    assert vm.state_text == "Checking the connection…"
    assert vm.last_sync == "Never"


def test_ms_label() -> None:
    assert ms_label(None) == "" and ms_label(True) == "" and ms_label(0) == ""
    ms = 1_649_750_000_000
    assert ms_label(ms) == datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S")


def test_close_stops_updates(phone: Device) -> None:
    sync = SyncService(phone)
    vm = SyncScreenViewModel(sync, RecordingNavigator())
    calls: list[int] = []
    vm.subscribe(lambda: calls.append(1))
    vm.close()
    make_changes(phone)
    assert calls == []


def test_a_rejected_record_is_named_by_what_it_is(phone: Device) -> None:
    Seeder(phone).household("hh-1", "3栋", "2单元", "1201")
    vm = SyncScreenViewModel(SyncService(phone), RecordingNavigator())
    assert vm.describe("assignment", "as-1") == "任务：核酸采样 · 观海轩 3栋 2单元 1201"
    assert vm.describe("request", "rq-1") == "居民诉求：购药 · 观海轩 3栋 2单元 1201"
    assert vm.describe("assignment", "as-gone") == ""
    assert vm.describe("no-such-kind", "x") == ""
    row = rejection_row(
        {"op": "op-1", "code": "op.out_of_scope", "kind": "assignment", "entity": "as-gone"},
        "zh-CN",
        vm.describe,
    )
    assert row.what == "任务 as-gone"


def test_partial_and_waiting_texts(phone: Device) -> None:
    kept = rejection_text(
        "op.status_changed", {"kind": "assignment", "status": "cancelled"}, "zh-CN", partial=True
    )
    assert kept.startswith("你的走访已保存") and "已取消" in kept and "{" not in kept
    other = rejection_text("op.something_new", {}, "en", partial=True)
    assert other.startswith("Your visit or note was kept")
    vm = SyncScreenViewModel(SyncService(phone), RecordingNavigator())
    assert vm.waiting_update is None
    store = phone.require_store()
    newer = Op(
        "op-new-1",
        "assignment",
        "as-1",
        "000001648800000:00000",
        "dv-x",
        "mb-x",
        set={"status": "in_progress"},
        seen={"status": "pending"},
        schema=99,
    )
    store.apply_remote([newer], None)
    assert (
        vm.waiting_update
        == "有 1 条来自指挥部的更新需要新版应用才能显示，已安全保存在本机。请更新应用。"
    )
