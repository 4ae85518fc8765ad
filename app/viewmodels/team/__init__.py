"""The team lead's screens: the team board, one member's list, reassigning, the shift handover
notes and the end-of-shift summary (``board``, ``shift``; shared reads in ``data``)."""

from app.viewmodels.team.board import (
    MemberChoice,
    MemberListViewModel,
    ReassignViewModel,
    TeamBoardViewModel,
)
from app.viewmodels.team.data import (
    UNASSIGNED,
    AssignmentRow,
    MemberRow,
    RequestRow,
    TeamData,
    local_time,
)
from app.viewmodels.team.shift import (
    HandoverViewModel,
    NoteRow,
    ShiftSummaryViewModel,
    pick_shift,
)
from sync.domain.progress import Progress, progress_of

__all__ = [
    "UNASSIGNED",
    "AssignmentRow",
    "HandoverViewModel",
    "MemberChoice",
    "MemberListViewModel",
    "MemberRow",
    "NoteRow",
    "Progress",
    "ReassignViewModel",
    "RequestRow",
    "ShiftSummaryViewModel",
    "TeamBoardViewModel",
    "TeamData",
    "local_time",
    "pick_shift",
    "progress_of",
]
