"""The look the settings, sync and team screens share: a scrolling list of section headings,
muted help lines and white cards."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flet as ft

from app.ui import theme

EDGE = "#E0E0E0"  # the border of a card


def heading(text: str, *, below: int = 4, identifier: str | None = None) -> ft.Control:
    """A section heading (``below``: the gap under it)."""
    label = ft.Text(text, size=16, weight=ft.FontWeight.W_600)
    box = ft.Container(label, padding=ft.Padding.only(top=12, bottom=below))
    return ft.Semantics(content=box, identifier=identifier) if identifier else box


def muted(text: str, *, size: int = 13) -> ft.Text:
    return ft.Text(text, color=theme.MUTED, size=size)


def card(controls: list[ft.Control], *, identifier: str | None = None) -> ft.Control:
    box = ft.Container(
        ft.Column(controls, spacing=6, tight=True),
        padding=12,
        border=ft.Border.all(1, EDGE),
        border_radius=10,
        bgcolor=ft.Colors.WHITE,
    )
    return ft.Semantics(content=box, identifier=identifier) if identifier else box


def scrolling(controls: list[ft.Control]) -> ft.ListView:
    """The body of a screen: a lazily built list that scrolls."""
    return ft.ListView(
        controls,
        expand=True,
        spacing=8,
        padding=ft.Padding.symmetric(vertical=8),
        build_controls_on_demand=True,
    )


def list_tile(
    identifier: str,
    *,
    icon: ft.Control,
    title: str,
    subtitle: str,
    on_click: Callable[[Any], None] | None,
    trailing: ft.Control | None = None,
    disabled: bool = False,
) -> ft.Control:
    """A white, rounded, touch-sized row that opens or picks something."""
    return ft.Semantics(
        identifier=identifier,
        content=ft.ListTile(
            leading=icon,
            title=ft.Text(title, weight=ft.FontWeight.W_600),
            subtitle=ft.Text(subtitle),
            trailing=trailing,
            on_click=on_click,
            disabled=disabled,
            min_height=theme.TOUCH + 8,
            bgcolor=ft.Colors.WHITE,
            shape=ft.RoundedRectangleBorder(radius=10),
        ),
    )
