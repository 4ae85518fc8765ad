"""An in-process server runtime on a fresh SQLite database (no HTTP) for the cheaper tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.server import config
from sync.server.db import Database
from sync.server.runtime import Runtime


def make_runtime(data_dir: Path) -> Runtime:
    settings = config.resolve(data_dir, None)
    config.init_data_dir(settings, save_database=False)
    database = Database(settings.database_url)
    database.create_schema()
    database.dispose()
    return Runtime.open(settings)


@pytest.fixture
def rt(tmp_path: Path) -> Iterator[Runtime]:
    runtime = make_runtime(tmp_path / "server")
    yield runtime
    runtime.close()
