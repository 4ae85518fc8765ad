"""The settings and sync screens build in both languages with no untranslated key, and the
sync bar opens the sync screen."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flet as ft
import pytest

from app import i18n
from app.services.device import Device
from app.services.sync_service import SyncService
from app.ui.context import UiContext
from app.ui.views import settings
from app.ui.widgets import sync_bar
from tests.unit.client.fakes import FakeServerTransport
from tests.unit.viewmodels.phone import (
    FakePage,
    FakeRouter,
    Seeder,
    identity,
    nodes,
    open_phone,
    texts,
)


@pytest.fixture
def server() -> FakeServerTransport:
    return FakeServerTransport(
        reject=lambda op: "op.forbidden_role" if op.kind == "request" else None
    )


@pytest.fixture
def phone(tmp_path: Path, server: FakeServerTransport) -> Iterator[Device]:
    device = open_phone(tmp_path / "lead", identity(server), server)
    s = Seeder(device)
    s.team()
    s.household("hh-1", "3栋", "2单元", "1201")
    s.request("rq-1", "urgent")
    yield device
    if device.store is not None:
        device.lock()
    i18n.set_language("zh-CN")


def context(device: Device, sync: SyncService | None = None) -> tuple[UiContext, FakeRouter]:
    nav = FakeRouter()
    page: Any = FakePage()
    ctx = UiContext(page=page, nav=nav, device=device, sync=sync or SyncService(device))  # type: ignore[arg-type]
    return ctx, nav


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("pattern", ["/settings", "/sync"])
def test_screen_builds_translated(phone: Device, pattern: str, lang: str) -> None:
    i18n.set_language(lang)
    ctx, _ = context(phone)
    route = next(r for r in settings.ROUTES if r.pattern == pattern)
    screen = route.build(ctx, {})
    assert isinstance(screen.view, ft.View)
    words = texts(screen.view)
    assert words
    assert not [w for w in words if w.startswith(("ui.", "domain.", "error."))]
    for cleanup in screen.cleanups:
        cleanup()


def test_sync_screen_shows_rejection_and_receipt_after_sync_now(phone: Device) -> None:
    sync = SyncService(phone)
    ctx, _ = context(phone, sync)
    phone.change("request", "rq-1", set={"status": "acknowledged"})
    phone.change("household", "hh-1", set={"note": "门铃坏了，请敲门"})
    screen = settings.ROUTES[1].build(ctx, {})
    sync_button: Any = next(
        c for c in nodes(screen.view) if isinstance(c, ft.FilledButton) and c.on_click
    )
    sync_button.on_click(None)  # the fake page runs the background work at once
    words = texts(screen.view)
    assert "居民诉求：购药 · 观海轩 3栋 2单元 1201" in words
    assert "已保存 1 条修改" in words
    assert "同步完成：发送 1 条，收到 0 条，被拒 1 条。" in words
    for cleanup in screen.cleanups:
        cleanup()


def test_tapping_the_sync_bar_opens_the_sync_screen(phone: Device) -> None:
    ctx, nav = context(phone)
    bar, unsubscribe = sync_bar(ctx)
    tappable = next(c for c in nodes(bar) if getattr(c, "on_click", None))
    tappable.on_click(None)
    assert nav.routes == ["/sync"]
    nav.current = "/sync"
    tappable.on_click(None)
    assert nav.routes == ["/sync"]  # already there: stays
    unsubscribe()
