"""Overdue work, time left on a request, and who counts as key-care."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sync.domain import SLA, deadline, is_overdue, key_care, sla_remaining
from tests.unit.domain.factories import REQUEST, RESIDENT

NOON = datetime(2022, 4, 1, 12, 0, tzinfo=UTC)


def test_sla_table() -> None:
    assert SLA["emergency"] < SLA["urgent"] < SLA["routine"]
    assert SLA["emergency"] == timedelta(hours=1)


def test_sla_remaining_counts_down_and_goes_negative() -> None:
    request = dict(REQUEST)  # due 12:00
    assert sla_remaining(request, NOON - timedelta(minutes=30)) == timedelta(minutes=30)
    assert sla_remaining(request, NOON + timedelta(hours=2)) == -timedelta(hours=2)
    for closed in ("resolved", "confirmed", "cancelled"):
        assert sla_remaining({**request, "status": closed}, NOON) is None
    assert sla_remaining({"status": "new"}, NOON) is None


def test_is_overdue_for_requests() -> None:
    request = dict(REQUEST)
    assert not is_overdue(request, NOON)
    assert is_overdue(request, NOON + timedelta(seconds=1))
    assert not is_overdue({**request, "status": "resolved"}, NOON + timedelta(days=1))


def test_is_overdue_for_assignments_counts_revisits() -> None:
    task = {"status": "in_progress", "due": "2022-04-01T18:00:00Z"}
    assert not is_overdue(task, NOON)
    assert is_overdue(task, NOON + timedelta(hours=7))
    waiting = {**task, "status": "no_answer", "revisit_due": "2022-04-01T11:00:00Z"}
    assert deadline(waiting) == NOON - timedelta(hours=1)
    assert is_overdue(waiting, NOON)
    assert not is_overdue({**waiting, "status": "done"}, NOON + timedelta(days=3))
    assert not is_overdue({"status": "pending"}, NOON)


def test_key_care() -> None:
    assert key_care(RESIDENT)
    assert key_care({"name": "王桂兰", "age_band": "80+", "care_flags": []})
    assert key_care({"name": "刘德明", "age_band": "18-59", "care_flags": ["disabled"]})
    assert not key_care({"name": "陈志强", "age_band": "60-79", "care_flags": []})
    assert not key_care({"name": "陈志强"})
