"""The closed value sets of every record field that takes one of a fixed list of values.

Each enum has a dotted name (``"assignment.status"``) that is also its label prefix in the
catalogs: the UI text of a value is ``domain.<enum>.<value>`` (see :mod:`sync.domain.labels`).
Order matters: it is the order the UI lists the values in.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

PLACE_LEVELS: Final = ("district", "street", "community", "building", "unit")
#: schema 4 adds home_isolation (居家隔离: one household isolated at home, from a day to its
#: planned release)
CONTROL: Final = ("sealed", "controlled", "precaution", "home_isolation", "normal")
AGE_BANDS: Final = ("0-6", "7-17", "18-59", "60-79", "80+")
CARE_FLAGS: Final = (
    "elderly_alone",
    "disabled",
    "pregnant",
    "chronic_illness",
    "child_without_guardian",
    # schema 3: the categories residential committees keep
    "very_old",
    "scheduled_treatment",
    "mental_illness",
    "hardship",
    "left_behind_child",
    "other",
)
TEAM_KINDS: Final = ("neighbour_service", "three_person", "targeted_service")
ROLES: Final = ("volunteer", "team_lead", "coordinator")
ASSIGNMENT_TYPES: Final = (
    "nucleic_acid_sampling",
    "supply_delivery",
    "welfare_check",
    "flow_investigation",
    "dispute_handling",
    "psychological_support",
    "notice_delivery",
    "other",
)
TARGET_KINDS: Final = ("household", "place")
PRIORITIES: Final = ("low", "normal", "high", "urgent")
ASSIGNMENT_STATUSES: Final = (
    "pending",
    "in_progress",
    "no_answer",
    "refused",
    "revisit",
    "done",
    "cancelled",
)
VISIT_OUTCOMES: Final = ("done", "no_answer", "refused", "revisit")
WELFARE_CONDITIONS: Final = ("ok", "needs_help", "emergency")
REQUEST_CATEGORIES: Final = (
    "food_goods",
    "medicine",
    "medical_care",
    "psychological",
    "dispute",
    "information",
    "other",
)
URGENCIES: Final = ("routine", "urgent", "emergency")
REQUEST_STATUSES: Final = (
    "new",
    "acknowledged",
    "in_progress",
    "resolved",
    "confirmed",
    "cancelled",
)
NOTICE_KINDS: Final = ("daily", "policy", "rumour_rebuttal")
#: schema 4: what a directory entry is (a team's lead or member, the community office, the duty
#: doctor, a public hotline such as 120 or 12345)
CONTACT_KINDS: Final = ("team_lead", "team_member", "office", "duty_doctor", "hotline", "other")

#: enum name -> its values, in display order. The name is the catalog label prefix.
ENUMS: Final = MappingProxyType(
    {
        "place.level": PLACE_LEVELS,
        "control": CONTROL,
        "age_band": AGE_BANDS,
        "care_flag": CARE_FLAGS,
        "team.kind": TEAM_KINDS,
        "member.role": ROLES,
        "assignment.type": ASSIGNMENT_TYPES,
        "assignment.target_kind": TARGET_KINDS,
        "assignment.priority": PRIORITIES,
        "assignment.status": ASSIGNMENT_STATUSES,
        "visit.outcome": VISIT_OUTCOMES,
        "welfare.condition": WELFARE_CONDITIONS,
        "request.category": REQUEST_CATEGORIES,
        "request.urgency": URGENCIES,
        "request.status": REQUEST_STATUSES,
        "notice.kind": NOTICE_KINDS,
        "contact.kind": CONTACT_KINDS,
    }
)
