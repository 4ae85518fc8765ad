"""Every team screen builds on a lead's phone, in both languages, with no untranslated key."""

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
from app.ui.views import team
from tests.unit.viewmodels.phone import (
    FakePage,
    FakeRouter,
    Seeder,
    at,
    identity,
    open_phone,
    texts,
)

ROUTES = {
    "/team": {},
    "/team/member/{member_id}": {"member_id": "mb-wang"},
    "/team/member/{member_id}/reassign/{id}": {"member_id": "mb-wang", "id": "as-1"},
    "/team/reassign/{id}": {"id": "as-1"},
    "/team/handover": {},
    "/team/summary": {},
}


@pytest.fixture
def phone(tmp_path: Path) -> Iterator[Device]:
    device = open_phone(tmp_path / "lead", identity())
    s = Seeder(device)
    s.team()
    s.member("mb-li", "李建国", "team_lead")
    s.member("mb-wang", "王桂兰")
    s.household("hh-1", "3栋", "2单元", "1201")
    s.assignment("as-1", "hh-1", "pending", assignee="mb-wang", due=at(-30), title="上门采样")
    s.assignment("as-2", "hh-1", "done", assignee="mb-wang")
    s.request("rq-1", "emergency", created_hours=-3)
    yield device
    device.lock()
    i18n.set_language("zh-CN")


def build(device: Device, pattern: str, params: dict[str, str]) -> tuple[Any, FakeRouter]:
    nav = FakeRouter()
    page: Any = FakePage()
    ctx = UiContext(page=page, nav=nav, device=device, sync=SyncService(device))  # type: ignore[arg-type]
    route = next(r for r in team.ROUTES if r.pattern == pattern)
    return route.build(ctx, params), nav


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("pattern", list(ROUTES))
def test_screen_builds_translated(phone: Device, pattern: str, lang: str) -> None:
    i18n.set_language(lang)
    screen, _ = build(phone, pattern, ROUTES[pattern])
    assert isinstance(screen.view, ft.View)
    words = texts(screen.view)
    assert words, pattern
    assert not [w for w in words if w.startswith(("ui.", "domain.", "error."))]
    for cleanup in screen.cleanups:
        cleanup()


def test_board_shows_members_and_overdue(phone: Device) -> None:
    screen, _ = build(phone, "/team", {})
    words = texts(screen.view)
    assert "王桂兰" in words and "逾期 1" in words and "居民诉求：1 件未办结" in words


def test_handover_without_a_shift_explains(phone: Device) -> None:
    screen, _ = build(phone, "/team/handover", {})
    assert i18n.tr("ui.team.no_shift") in texts(screen.view)
    assert i18n.tr("ui.team.start_shift") in texts(screen.view)
