"""The team lead's screens (``board``: the board, a member's list, reassigning; ``shift``: the
handover notes and the end-of-shift summary)."""

from app.ui.router import Route
from app.ui.views.team.board import board_screen, member_screen, reassign_screen
from app.ui.views.team.shift import handover_screen, summary_screen

ROUTES = [
    Route("/team", board_screen),
    Route("/team/member/{member_id}", member_screen, parent="/team"),
    Route(
        "/team/member/{member_id}/reassign/{id}",
        reassign_screen,
        parent="/team/member/{member_id}",
    ),
    Route("/team/reassign/{id}", reassign_screen, parent="/team"),
    Route("/team/handover", handover_screen, parent="/team"),
    Route("/team/summary", summary_screen, parent="/team"),
]

__all__ = ["ROUTES"]
