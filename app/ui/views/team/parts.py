"""Pieces the team screens share: progress chips and bars, the overdue chip, tappable cards."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flet as ft

from app.i18n import tr
from app.ui import theme
from app.ui.panels import EDGE
from app.ui.widgets import chip
from app.viewmodels.team import Progress


def overdue_chip(count: int | None = None, *, identifier: str | None = None) -> ft.Control:
    """Overdue stands out by colour, icon and words."""
    text = tr("ui.team.overdue") if count is None else tr("ui.team.overdue_n", n=count)
    box = ft.Container(
        ft.Row(
            [
                ft.Icon(ft.Icons.WARNING_AMBER, size=14, color=ft.Colors.WHITE),
                ft.Text(text, size=12, color=ft.Colors.WHITE, weight=ft.FontWeight.W_600),
            ],
            spacing=4,
            tight=True,
        ),
        bgcolor=theme.DANGER,
        padding=ft.Padding.symmetric(horizontal=8, vertical=2),
        border_radius=12,
    )
    return ft.Semantics(content=box, identifier=identifier) if identifier else box


def progress_chips(p: Progress, *, prefix: str | None = None) -> ft.Control:
    """done / to do / revisit (and overdue when there is any) as a wrapping row of chips."""

    def ident(name: str) -> str | None:
        return f"{prefix}-{name}" if prefix else None

    chips = [
        chip(tr("ui.team.done_n", n=p.done), theme.OK, identifier=ident("done")),
        chip(tr("ui.team.todo_n", n=p.todo), theme.INFO, identifier=ident("todo")),
        chip(tr("ui.team.revisit_n", n=p.revisit), theme.WARN, identifier=ident("revisit")),
    ]
    if p.overdue:
        chips.append(overdue_chip(p.overdue, identifier=ident("overdue")))
    return ft.Row(chips, wrap=True, spacing=6, run_spacing=6)


def progress_bar(p: Progress) -> ft.Control:
    """A picture of the chips next to it: left out of the accessibility tree, so the card
    around it stays a button named by its text."""
    bar = ft.ProgressBar(
        value=p.fraction, color=theme.OK, bgcolor="#E8F5E9", bar_height=6, border_radius=3
    )
    return ft.Semantics(content=bar, exclude_semantics=True)


def tappable(
    content: ft.Control, on_tap: Callable[[Any], None], *, identifier: str | None = None
) -> ft.Control:
    """A whole card that opens something (at least 48 px tall)."""
    box = ft.Container(
        content,
        on_click=on_tap,
        ink=True,
        padding=12,
        border=ft.Border.all(1, EDGE),
        border_radius=10,
        bgcolor=ft.Colors.WHITE,
    )
    return ft.Semantics(content=box, identifier=identifier, button=True) if identifier else box
