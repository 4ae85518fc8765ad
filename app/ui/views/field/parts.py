"""Pieces the field screens share: a clock tick for countdowns, flags that say what they mean in
words and icons (never colour alone), list cards, filter pickers and the "not accepted by the
server" banner."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

import flet as ft

from app.i18n import tr
from app.ui import theme
from app.ui.router import Cleanup
from sync.domain.enums import PRIORITIES

LINE = "#E0E0E0"  # hairlines between list items
ALL = "__all__"  # the "any value" choice of a filter picker
#: the priorities a door is flagged for: "high" and above (``PRIORITIES`` runs low to urgent)
HIGH_PRIORITIES = frozenset(PRIORITIES[PRIORITIES.index("high") :])


def ticker(seconds: float, tick: Callable[[], None]) -> Cleanup:
    """Call ``tick`` every ``seconds`` on a daemon thread until the returned stop is called."""
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(seconds):
            with contextlib.suppress(Exception):
                tick()

    threading.Thread(target=run, name="linli-tick", daemon=True).start()
    return stop.set


def flag(
    text: str, colour: str, icon: ft.IconData | None = None, *, identifier: str | None = None
) -> ft.Control:
    """A small labelled marker: icon + words in ``colour`` (so it never relies on colour)."""
    parts: list[ft.Control] = []
    if icon is not None:
        parts.append(ft.Icon(icon, size=16, color=colour))
    parts.append(ft.Text(text, size=12, color=colour, weight=ft.FontWeight.W_600))
    box = ft.Container(
        ft.Row(parts, spacing=2, tight=True),
        padding=ft.Padding.symmetric(horizontal=6, vertical=2),
        border=ft.Border.all(1, colour),
        border_radius=12,
    )
    return ft.Semantics(content=box, identifier=identifier) if identifier else box


def overdue_flag() -> ft.Control:
    return flag(tr("ui.field.overdue"), theme.DANGER, ft.Icons.ALARM)


def key_care_flag() -> ft.Control:
    return flag(tr("ui.field.key_care"), theme.PRIMARY, ft.Icons.FAVORITE)


def rejected_flag() -> ft.Control:
    """The server did not accept a change to this record."""
    return flag(tr("ui.field.rejected_short"), theme.DANGER, ft.Icons.ERROR_OUTLINE)


def card(
    lines: list[ft.Control],
    on_click: Callable[[Any], None] | None,
    *,
    identifier: str,
    accent: str | None = None,
    spacing: int = 4,
) -> ft.Control:
    """A tappable list item of ``lines``, at least 48 px tall, with an optional coloured left
    edge."""
    box = ft.Container(
        ft.Column(lines, spacing=spacing),
        padding=ft.Padding.only(left=10, right=10, top=8, bottom=8),
        border=ft.Border.only(
            left=ft.BorderSide(4, accent or ft.Colors.TRANSPARENT),
            bottom=ft.BorderSide(1, LINE),
        ),
        bgcolor=ft.Colors.WHITE,
        on_click=on_click,
        ink=on_click is not None,
        margin=ft.Margin.only(bottom=6),
        border_radius=6,
    )
    return ft.Semantics(content=box, identifier=identifier, button=on_click is not None)


def marks_row(items: list[ft.Control]) -> ft.Row:
    """A wrapping row of flags and chips."""
    return ft.Row(items, wrap=True, spacing=4, run_spacing=4)


def heading(text: str, *, size: int = 15, identifier: str | None = None) -> ft.Control:
    label = ft.Text(text, size=size, weight=ft.FontWeight.BOLD)
    return ft.Semantics(content=label, identifier=identifier) if identifier else label


def muted(text: str, *, size: int = 12) -> ft.Text:
    return ft.Text(text, size=size, color=theme.MUTED)


def picker(
    label: str,
    choices: list[tuple[str, str]],
    value: str | None,
    on_pick: Callable[[str | None], None],
    *,
    any_text: str | None = None,
    expand: bool | int = True,
) -> ft.Dropdown:
    """A dropdown of ``(value, text)`` choices; with ``any_text`` a first "any" choice maps to
    ``None``."""
    options = [ft.DropdownOption(key=k, text=t) for k, t in choices]
    if any_text is not None:
        options.insert(0, ft.DropdownOption(key=ALL, text=any_text))

    def picked(e: Any) -> None:
        key = e.control.value
        on_pick(None if key in (None, ALL) else str(key))

    return ft.Dropdown(
        label=label,
        options=options,
        value=value if value is not None else (ALL if any_text is not None else None),
        on_select=picked,
        expand=expand,
        dense=True,
        menu_height=360,
    )


def filter_picker(
    label: str,
    identifier: str,
    choices: list[tuple[str, str]],
    value: str | None,
    on_pick: Callable[[str | None], None],
) -> ft.Control:
    """A named :func:`picker` whose first choice is "any" (no filter)."""
    return named(picker(label, choices, value, on_pick, any_text=tr("ui.field.any")), identifier)


def named(dropdown: ft.Dropdown, identifier: str) -> ft.Control:
    """A dropdown with its label as its accessible name and a semantics identifier (Flutter
    leaves the dropdown's button unnamed), so it can be found by tests and screen readers."""
    label = dropdown.label if isinstance(dropdown.label, str) else None
    return ft.Semantics(
        content=dropdown, identifier=identifier, label=label, expand=dropdown.expand
    )


def wide(control: ft.Control) -> ft.Row:
    """``control`` stretched to the full width (a dropdown otherwise sizes to its text)."""
    control.expand = True
    return ft.Row([control])


def rejection_banner(text: str, on_dismiss: Callable[[Any], None]) -> ft.Control:
    """The server's refusal of a change to the record on screen, and what to do about it."""
    return ft.Semantics(
        identifier="rejection",
        content=ft.Container(
            ft.Column(
                [
                    ft.Row(
                        [
                            ft.Icon(ft.Icons.ERROR_OUTLINE, color=theme.DANGER),
                            ft.Text(text, color=theme.DANGER, expand=True, size=13),
                        ],
                        vertical_alignment=ft.CrossAxisAlignment.START,
                    ),
                    ft.Row(
                        [
                            ft.TextButton(
                                tr("ui.field.rejected_dismiss"),
                                on_click=on_dismiss,
                                height=theme.TOUCH,
                            )
                        ],
                        alignment=ft.MainAxisAlignment.END,
                    ),
                ],
                spacing=0,
            ),
            padding=10,
            bgcolor="#FFEBEE",
            border_radius=6,
            border=ft.Border.all(1, theme.DANGER),
        ),
    )


def info_row(icon: ft.IconData, text: str, *, colour: str | None = None) -> ft.Control:
    return ft.Row(
        [
            ft.Icon(icon, size=18, color=colour or theme.MUTED),
            ft.Text(text, expand=True, color=colour, size=14),
        ],
        spacing=6,
        vertical_alignment=ft.CrossAxisAlignment.START,
    )


def call_button(phone: str, url: str) -> ft.Control:
    """Tap to call ``phone`` (a ``tel:`` link)."""
    return ft.OutlinedButton(
        content=tr("ui.field.call", phone=phone),
        icon=ft.Icons.PHONE,
        url=url,
        height=theme.TOUCH,
    )


def text_area(
    label: str, on_text: Callable[[str], None], *, min_lines: int = 1, max_lines: int = 4
) -> ft.TextField:
    """A multi-line text field that hands each change of its text to ``on_text``."""

    def changed(e: Any) -> None:
        on_text(e.control.value or "")

    return ft.TextField(
        label=label, multiline=True, min_lines=min_lines, max_lines=max_lines, on_change=changed
    )


def list_page(
    gap: int, top: ft.Control, summary: ft.Text, summary_id: str, items: ft.ListView
) -> ft.Column:
    """A list screen's body: a gap, its tools (``top``), a one-line ``summary``, the list."""
    return ft.Column(
        [
            ft.Container(height=gap),
            top,
            ft.Semantics(content=summary, identifier=summary_id),
            items,
        ],
        expand=True,
        spacing=6,
    )
