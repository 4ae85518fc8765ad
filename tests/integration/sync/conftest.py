"""Fixtures: a REAL server process with the demo district, on SQLite and on PostgreSQL.

PostgreSQL runs get a fresh database ``linli_test_<random>`` on 127.0.0.1:5432 (user postgres)
that is dropped afterwards; if PostgreSQL is unreachable those tests FAIL, they never skip.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.harness import LiveServer

DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="module", params=DATABASES)
def live(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    with LiveServer(request.param, demo=True, pg_prefix="linli_test") as server:
        yield server
