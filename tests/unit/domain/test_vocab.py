"""The domain's shared vocabulary: roles, door outcomes, progress buckets and ranks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sync.domain import (
    DOOR_OUTCOMES,
    LEAD_ROLES,
    PRIORITY_RANK,
    PROGRESS_BUCKETS,
    ROLE_RANK,
    ROLES,
    URGENCY_RANK,
    door_outcome,
    is_lead,
    progress_bucket,
)
from sync.domain.enums import ASSIGNMENT_STATUSES, PRIORITIES, URGENCIES
from sync.domain.progress import Progress, door_counts, progress_of

NOW = datetime(2022, 4, 1, 10, 0, tzinfo=UTC)


def test_lead_roles_are_roles_and_volunteers_are_not_leads() -> None:
    assert set(ROLES) > LEAD_ROLES
    assert is_lead("team_lead") and is_lead("coordinator")
    assert not is_lead("volunteer") and not is_lead(None)
    assert set(ROLE_RANK) == set(ROLES)
    assert min(ROLE_RANK, key=ROLE_RANK.__getitem__) == "team_lead"


@pytest.mark.parametrize(
    ("status", "bucket"),
    [
        ("done", "done"),
        ("no_answer", "no_answer"),
        ("refused", "refused"),
        ("revisit", "revisit_due"),
        ("pending", "pending"),
        ("in_progress", "pending"),
        ("cancelled", None),
        ("from_a_newer_version", None),
        (None, None),
    ],
)
def test_door_outcome_of_each_status(status: object, bucket: str | None) -> None:
    assert door_outcome(status) == bucket


def test_every_status_but_cancelled_has_a_door_outcome() -> None:
    buckets = {door_outcome(s) for s in ASSIGNMENT_STATUSES if s != "cancelled"}
    assert buckets == set(DOOR_OUTCOMES)


def test_no_answer_becomes_revisit_due_once_its_time_has_come() -> None:
    assert door_outcome("no_answer", "2022-04-01T09:59:00Z", NOW) == "revisit_due"
    assert door_outcome("no_answer", "2022-04-01T10:00:00Z", NOW) == "revisit_due"
    assert door_outcome("no_answer", "2022-04-01T10:01:00Z", NOW) == "no_answer"
    assert door_outcome("no_answer", "2022-04-01T09:00:00Z") == "no_answer"
    assert door_outcome("no_answer", "not a time", NOW) == "no_answer"
    assert door_outcome("refused", "2022-04-01T09:00:00Z", NOW) == "refused"


@pytest.mark.parametrize(
    ("status", "bucket"),
    [
        ("done", "done"),
        ("no_answer", "revisit"),
        ("refused", "revisit"),
        ("revisit", "revisit"),
        ("pending", "todo"),
        ("in_progress", "todo"),
        ("cancelled", None),
    ],
)
def test_progress_bucket_of_each_status(status: str, bucket: str | None) -> None:
    assert progress_bucket(status) == bucket
    assert bucket is None or bucket in PROGRESS_BUCKETS


def test_ranks_put_the_most_pressing_first() -> None:
    assert sorted(PRIORITIES, key=PRIORITY_RANK.__getitem__) == ["urgent", "high", "normal", "low"]
    assert sorted(URGENCIES, key=URGENCY_RANK.__getitem__) == ["emergency", "urgent", "routine"]


def test_progress_and_door_counts_of_a_set_of_assignments() -> None:
    assignments = [
        {"status": "done"},
        {"status": "pending", "due": "2022-04-01T09:00:00Z"},
        {"status": "in_progress"},
        {"status": "no_answer", "revisit_due": "2022-04-01T09:30:00Z"},
        {"status": "no_answer", "revisit_due": "2022-04-01T11:00:00Z"},
        {"status": "refused"},
        {"status": "revisit"},
        {"status": "cancelled"},
    ]
    progress = progress_of(assignments, NOW)
    assert progress == Progress(done=1, todo=2, revisit=4, overdue=2)
    assert progress.total == 7 and progress.fraction == 1 / 7
    assert door_counts(assignments, NOW) == {
        "done": 1,
        "no_answer": 1,
        "refused": 1,
        "revisit_due": 2,
        "pending": 2,
    }
    assert list(door_counts([], NOW)) == list(DOOR_OUTCOMES)
