"""The limits' configuration and budget arithmetic (the behaviour is tested against a real
server in tests/integration/server/test_abuse_http.py)."""

from __future__ import annotations

import resource

from sync.server.limits import BodyBudget, Limits
from sync.server.serving import FD_RESERVE, PROTOCOL, connection_cap, uvicorn_kwargs


def test_limits_reach_the_workers_through_the_environment() -> None:
    limits = Limits(body_budget_bytes=1234, body_idle_s=2.5, max_connections=77)
    env = limits.to_env()
    assert env["LINLI_LIMIT_BODY_IDLE_S"] == "2.5"
    assert Limits.from_env(env) == limits
    assert Limits.from_env({}) == Limits()


def test_the_budget_refuses_what_does_not_fit_and_takes_back_what_is_given() -> None:
    budget = BodyBudget(10)
    assert budget.take(6) and not budget.take(5) and budget.take(4)
    budget.give(6)
    assert budget.used == 4 and budget.take(6) and not budget.take(1)


def test_the_connection_cap_fits_the_descriptor_limit() -> None:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    cap = connection_cap(Limits(max_connections=10**6))
    assert cap == soft - FD_RESERVE or soft == resource.RLIM_INFINITY
    assert connection_cap(Limits(max_connections=50)) == min(50, soft - FD_RESERVE)


def test_uvicorn_runs_the_guarded_protocol_with_the_limits() -> None:
    kw = uvicorn_kwargs("127.0.0.1", 8700, 2, Limits(keep_alive_s=3, max_header_bytes=4096))
    assert kw["http"] == PROTOCOL and kw["workers"] == 2
    assert kw["timeout_keep_alive"] == 3 and kw["h11_max_incomplete_event_size"] == 4096
