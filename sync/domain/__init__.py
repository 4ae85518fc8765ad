"""The records of linli, their rules and the builders that make changes to them (stdlib only).

Both the phone and the server import this package to validate ops and to make them; the merge
itself is :mod:`sync.merge`. Modules: ``enums`` (value sets), ``values`` (value checks),
``schema`` (record kinds), ``machines`` (status machines), ``validation`` (``validate_op``),
``changes`` (op builders), ``times`` (record times, SLA), ``attention`` (overdue, key care),
``labels`` (UI text), ``progress`` (counts of assignments), ``vocab`` (roles, door outcomes, progress buckets, ranks).
"""

from sync.domain.attention import CLOSED, deadline, is_overdue, key_care, sla_remaining
from sync.domain.changes import (
    ID_PREFIX,
    add_note,
    is_new,
    make_op,
    new_request,
    record_visit,
    transition,
)
from sync.domain.enums import ENUMS
from sync.domain.labels import field_label, kind_label, label, options
from sync.domain.machines import ASSIGNMENT_MACHINE, OUTCOME_STATUS, REQUEST_MACHINE, Machine
from sync.domain.schema import KINDS, ChildSpec, KindSpec
from sync.domain.times import REVISIT_DELAY, SLA, due_for, now_iso, parse_iso, to_iso
from sync.domain.validation import check_device_writable, spec_of, validate_op
from sync.domain.values import is_phone
from sync.domain.vocab import (
    DOOR_OUTCOMES,
    LEAD_ROLES,
    PRIORITY_RANK,
    PROGRESS_BUCKETS,
    REVISIT_DUE_STATUSES,
    REVISIT_STATUSES,
    ROLE_RANK,
    ROLES,
    TODO_STATUSES,
    URGENCY_RANK,
    URGENT_LEVELS,
    door_outcome,
    is_lead,
    progress_bucket,
)

__all__ = [
    "ASSIGNMENT_MACHINE",
    "CLOSED",
    "DOOR_OUTCOMES",
    "ENUMS",
    "ID_PREFIX",
    "KINDS",
    "LEAD_ROLES",
    "OUTCOME_STATUS",
    "PRIORITY_RANK",
    "PROGRESS_BUCKETS",
    "REQUEST_MACHINE",
    "REVISIT_DELAY",
    "REVISIT_DUE_STATUSES",
    "REVISIT_STATUSES",
    "ROLES",
    "ROLE_RANK",
    "SLA",
    "TODO_STATUSES",
    "URGENCY_RANK",
    "URGENT_LEVELS",
    "ChildSpec",
    "KindSpec",
    "Machine",
    "add_note",
    "check_device_writable",
    "deadline",
    "door_outcome",
    "due_for",
    "field_label",
    "is_lead",
    "is_new",
    "is_overdue",
    "is_phone",
    "key_care",
    "kind_label",
    "label",
    "make_op",
    "new_request",
    "now_iso",
    "options",
    "parse_iso",
    "progress_bucket",
    "record_visit",
    "sla_remaining",
    "spec_of",
    "to_iso",
    "transition",
    "validate_op",
]
