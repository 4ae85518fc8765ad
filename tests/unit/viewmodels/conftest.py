"""Fixtures shared by the view-model tests (the builders themselves are in ``phone.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app import i18n
from app.services.device import Device
from tests.unit.viewmodels.phone import field_env, identity, open_phone, restore_tz


@pytest.fixture
def field_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The phones' time zone (Asia/Shanghai) and Chinese, put back afterwards."""
    field_env(monkeypatch)
    yield
    monkeypatch.undo()
    restore_tz()


@pytest.fixture
def chinese() -> Iterator[None]:
    """Chinese screens, and Chinese again afterwards (a test may switch languages)."""
    i18n.set_language("zh-CN")
    yield
    i18n.set_language("zh-CN")


@pytest.fixture
def phone(tmp_path: Path) -> Iterator[Device]:
    """A volunteer's unlocked phone, offline, with nothing on it yet."""
    device = open_phone(tmp_path / "phone")
    yield device
    if device.store is not None:
        device.lock()


@pytest.fixture
def lead_phone(tmp_path: Path) -> Iterator[Device]:
    """The team lead's (李建国's) unlocked phone, offline, with nothing on it yet."""
    device = open_phone(tmp_path / "lead", identity())
    yield device
    if device.store is not None:
        device.lock()
