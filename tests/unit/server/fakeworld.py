"""A World made of plain dicts, for the pure scope and authorization rules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class DictWorld:
    def __init__(self, records: dict[tuple[str, str], dict[str, Any]]) -> None:
        self.records = records

    def refs(self, kind: str, entity_id: str) -> Mapping[str, Any] | None:
        return self.records.get((kind, entity_id))

    def record(self, kind: str, entity_id: str) -> Mapping[str, Any] | None:
        return self.records.get((kind, entity_id))


def community_world() -> DictWorld:
    """district D → community C → buildings B1, B2 → units U1 (in B1), U2 (in B2);
    households H1 at U1, H2 at U2; teams TA (area B1), TB (area B2); members."""
    return DictWorld(
        {
            ("place", "D"): {"level": "district"},
            ("place", "C"): {"level": "community", "parent_id": "D"},
            ("place", "B1"): {"level": "building", "parent_id": "C"},
            ("place", "B2"): {"level": "building", "parent_id": "C"},
            ("place", "U1"): {"level": "unit", "parent_id": "B1"},
            ("place", "U2"): {"level": "unit", "parent_id": "B2"},
            ("household", "H1"): {"place_id": "U1"},
            ("household", "H2"): {"place_id": "U2"},
            ("team", "TA"): {"area": ["B1"], "community_id": "C"},
            ("team", "TB"): {"area": ["B2"], "community_id": "C"},
            ("member", "VA"): {"team_id": "TA", "role": "volunteer"},
            ("member", "VA2"): {"team_id": "TA", "role": "volunteer"},
            ("member", "LA"): {"team_id": "TA", "role": "team_lead"},
            ("member", "VB"): {"team_id": "TB", "role": "volunteer"},
            ("assignment", "A1"): {
                "team_id": "TA",
                "assignee_id": "VA",
                "target_kind": "household",
                "target_id": "H1",
                "status": "pending",
            },
            ("assignment", "A2"): {
                "team_id": "TB",
                "assignee_id": "VB",
                "target_kind": "household",
                "target_id": "H2",
                "status": "pending",
            },
            ("request", "Q1"): {"household_id": "H1", "team_id": "TA", "status": "new"},
            ("request", "Q2"): {
                "household_id": "H2",
                "team_id": "TB",
                "assignee_id": "VB",
                "status": "new",
            },
            ("shift", "S1"): {"team_id": "TA"},
        }
    )
