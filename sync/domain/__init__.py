"""The records of linli, their rules and the builders that make changes to them (stdlib only).

Both the phone and the server import this package to validate ops and to make them; the merge
itself is :mod:`sync.merge`. Modules: ``enums`` (value sets), ``values`` (value checks),
``schema`` (record kinds), ``machines`` (status machines), ``validation`` (``validate_op``),
``changes`` (op builders), ``times`` (record times, SLA), ``attention`` (overdue, key care),
``labels`` (UI text).
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
from sync.domain.machines import ASSIGNMENT, OUTCOME_STATUS, REQUEST, Machine
from sync.domain.schema import KINDS, ChildSpec, KindSpec
from sync.domain.times import REVISIT_DELAY, SLA, due_for, now_iso, parse_iso, to_iso
from sync.domain.validation import check_device_writable, spec_of, validate_op
from sync.domain.values import is_phone

__all__ = [
    "ASSIGNMENT",
    "CLOSED",
    "ENUMS",
    "ID_PREFIX",
    "KINDS",
    "OUTCOME_STATUS",
    "REQUEST",
    "REVISIT_DELAY",
    "SLA",
    "ChildSpec",
    "KindSpec",
    "Machine",
    "add_note",
    "check_device_writable",
    "deadline",
    "due_for",
    "field_label",
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
    "record_visit",
    "sla_remaining",
    "spec_of",
    "to_iso",
    "transition",
    "validate_op",
]
