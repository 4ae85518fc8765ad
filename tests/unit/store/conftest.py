from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.store import LocalStore
from sync.hlc import HybridClock
from tests.unit.store.helpers import PIN


@pytest.fixture
def clock() -> HybridClock:
    return HybridClock()


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def store(store_dir: Path) -> Iterator[LocalStore]:
    s = LocalStore.create(store_dir, PIN)
    yield s
    s.close()
