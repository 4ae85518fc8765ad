"""Small building blocks every screen shares: scaffold, navigation bar, binding a view-model to
a screen, the sync bar, chips, buttons."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any, Protocol

import flet as ft

from app.i18n import tr
from app.ui import theme
from app.ui.router import Cleanup, Screen
from app.viewmodels.base import sync_warning
from sync.domain.vocab import LEAD_ROLES


class Announcing(Protocol):
    """A view-model that announces its changes."""

    def subscribe(self, callback: Callable[[], None]) -> Cleanup: ...


class ScreenState(Announcing, Protocol):
    """A view-model a screen shows and closes when it leaves."""

    def close(self) -> None: ...


# (route, icon, label key, roles allowed or None for all)
TABS: list[tuple[str, ft.IconData, str, frozenset[str] | None]] = [
    ("/home", ft.Icons.ASSIGNMENT, "ui.nav.home", None),
    ("/requests", ft.Icons.SUPPORT_AGENT, "ui.nav.requests", None),
    ("/team", ft.Icons.GROUPS, "ui.nav.team", LEAD_ROLES),
    ("/notices", ft.Icons.CAMPAIGN, "ui.nav.notices", None),
    ("/settings", ft.Icons.SETTINGS, "ui.nav.settings", None),
]


def tabs_for(role: str | None) -> list[tuple[str, ft.IconData, str]]:
    return [(r, i, k) for r, i, k, roles in TABS if roles is None or (role in roles)]


def nav_bar(ctx: Any, selected: str) -> ft.NavigationBar:
    tabs = tabs_for(ctx.device.role)
    routes = [r for r, _, _ in tabs]

    def on_change(e: Any) -> None:
        ctx.nav.replace_all(routes[int(e.control.selected_index)])

    return ft.NavigationBar(
        destinations=[ft.NavigationBarDestination(icon=i, label=tr(k)) for _, i, k in tabs],
        selected_index=routes.index(selected) if selected in routes else 0,
        on_change=on_change,
    )


def chip(text: str, colour: str, *, identifier: str | None = None) -> ft.Control:
    box = ft.Container(
        content=ft.Text(text, size=12, color=colour, weight=ft.FontWeight.W_600),
        padding=ft.Padding.symmetric(horizontal=8, vertical=2),
        border=ft.Border.all(1, colour),
        border_radius=12,
    )
    return ft.Semantics(content=box, identifier=identifier) if identifier else box


def redraw(ctx: Any) -> None:
    """Push changed controls to the screen (a no-op once the view has left the page)."""
    with contextlib.suppress(RuntimeError, AssertionError):
        ctx.page.update()


def bind(ctx: Any, vm: Announcing, render: Callable[[], None]) -> Cleanup:
    """Run ``render`` now and after each change of ``vm`` (from any thread, one at a time),
    then push the page. Returns the unsubscribe."""
    lock = threading.Lock()

    def update() -> None:
        with lock:
            render()
            redraw(ctx)

    with lock:
        render()
    return vm.subscribe(update)


def tap(action: Callable[[str], object], value: str) -> Callable[[Any], None]:
    """An event handler that calls ``action(value)`` (its result is dropped)."""

    def handler(_: Any) -> None:
        action(value)

    return handler


def practice_banner(visible: bool = False) -> ft.Container:
    """The 演练 / PRACTICE strip of a phone of a practice (training) server."""
    return ft.Container(
        ft.Semantics(
            content=ft.Text(
                tr("ui.practice_banner"), color=theme.ON_PRACTICE, weight=ft.FontWeight.BOLD
            ),
            identifier="practice-banner",
        ),
        bgcolor=theme.PRACTICE,
        padding=ft.Padding.symmetric(horizontal=12, vertical=3),
        alignment=ft.Alignment.CENTER,
        visible=visible,
    )


def online_colour(online: bool | None) -> str:
    """The colour of the sync state's dot: online, not known yet, offline."""
    return theme.OK if online else (theme.MUTED if online is None else theme.WARN)


def sync_bar(ctx: Any) -> tuple[ft.Control, Cleanup]:
    """Always-visible sync state: online/offline, pending changes, last sync, progress."""
    dot = ft.Container(width=10, height=10, border_radius=5)
    label = ft.Text(size=12)
    clock = ft.Text(size=12, color=theme.WARN)
    clock_row = ft.Container(
        ft.Semantics(content=clock, identifier="sync-clock-wrong"),
        padding=ft.Padding.symmetric(horizontal=12, vertical=2),
        visible=False,
    )
    progress = ft.ProgressBar(value=None, visible=False)
    practice = practice_banner()

    def render() -> None:
        s = ctx.sync.status
        practice.visible = s.practice
        dot.bgcolor = online_colour(s.online)
        state = tr("ui.sync.online") if s.online else tr("ui.sync.offline")
        last = s.last_sync_label or tr("ui.sync.never")
        label.value = tr("ui.sync.bar", state=state, pending=s.pending, last=last)
        progress.visible = s.syncing
        progress.value = s.progress
        warning = sync_warning(s)
        clock_row.visible, clock.value = warning is not None, warning or ""

    def on_change() -> None:
        render()
        # not on the page (yet / any more): nothing to redraw
        with contextlib.suppress(RuntimeError, AssertionError):
            bar.update()

    def open_sync(_: Any) -> None:  # tapping the bar opens the sync screen
        if ctx.nav.current != "/sync":
            ctx.nav.go("/sync")

    render()
    bar = ft.Column(
        [
            practice,
            ft.Container(
                ft.Row([dot, ft.Semantics(content=label, identifier="sync-state")], spacing=6),
                padding=ft.Padding.symmetric(horizontal=12, vertical=4),
                bgcolor=theme.SURFACE_ALT,
                on_click=open_sync,
                ink=True,
            ),
            clock_row,
            progress,
        ],
        spacing=0,
    )
    return bar, ctx.sync.subscribe(on_change)


def scaffold(
    ctx: Any,
    route: str,
    title: str,
    body: ft.Control,
    *,
    tab: str | None = None,
    actions: list[ft.Control] | None = None,
    fab: ft.FloatingActionButton | None = None,
    cleanups: list[Cleanup] | None = None,
    show_sync: bool = True,
) -> Screen:
    """One screen: app bar, sync bar, the body filling the rest, the tab bar on top-level screens."""
    cleanups = list(cleanups or [])
    controls: list[ft.BaseControl] = []
    if show_sync:
        bar, unsubscribe = sync_bar(ctx)
        controls.append(bar)
        cleanups.append(unsubscribe)
    controls.append(ft.Container(body, expand=True, padding=ft.Padding.symmetric(horizontal=12)))
    view = ft.View(
        route=route,
        appbar=ft.AppBar(title=ft.Text(title), actions=actions or []),
        controls=controls,
        navigation_bar=nav_bar(ctx, tab) if tab else None,
        floating_action_button=fab,
        padding=0,
        spacing=0,
    )
    return Screen(view, cleanups)


def vm_screen(
    ctx: Any,
    vm: ScreenState,
    render: Callable[[], None],
    route: str,
    title: str,
    body: ft.Control,
    *,
    tab: str | None = None,
    fab: ft.FloatingActionButton | None = None,
    cleanups: tuple[Cleanup, ...] = (),
) -> Screen:
    """A :func:`scaffold` showing ``vm``: ``render`` runs now and after each change; leaving the
    screen ends the subscription, then ``cleanups``, then the view-model."""
    unsubscribe = bind(ctx, vm, render)
    return scaffold(
        ctx, route, title, body, tab=tab, fab=fab, cleanups=[unsubscribe, *cleanups, vm.close]
    )


def touch_button(
    text: str,
    on_click: Callable[[Any], None],
    *,
    icon: ft.IconData | None = None,
    primary: bool = True,
    colour: str | None = None,
    expand: bool | int = False,
) -> ft.Control:
    """A button at least 48 px tall."""
    style = ft.ButtonStyle(
        padding=ft.Padding.symmetric(horizontal=16, vertical=12),
        bgcolor=colour,
        color=ft.Colors.WHITE if colour else None,
    )
    button_cls = ft.FilledButton if primary else ft.OutlinedButton
    return button_cls(
        content=text, icon=icon, on_click=on_click, style=style, height=theme.TOUCH, expand=expand
    )


def empty_state(text: str) -> ft.Control:
    return ft.Container(
        ft.Text(text, color=theme.MUTED, text_align=ft.TextAlign.CENTER),
        padding=32,
        alignment=ft.Alignment.CENTER,
    )


def leads_only() -> ft.Control:
    """What a team screen shows a volunteer who is not a lead."""
    return empty_state(tr("ui.team.leads_only"))


class SyncNow:
    """The big "Sync now" button, the progress bar under way and the note saying how it went
    (in red when it failed), as one control: :attr:`view`. The screen's view-model runs the sync
    (``on_sync`` starts it off the UI thread) and :meth:`render` shows its state."""

    def __init__(
        self,
        label: str,
        on_sync: Callable[[], None],
        *,
        note_id: str,
        progress_first: bool = False,
        spacing: int = 8,
    ) -> None:
        self.progress = ft.ProgressBar(visible=False)
        self.note = ft.Text()
        self.note_box = ft.Semantics(identifier=note_id, content=self.note, visible=False)
        self.button = ft.FilledButton(
            content=ft.Text(label, size=18, weight=ft.FontWeight.W_600),
            icon=ft.Icons.SYNC,
            on_click=lambda _: on_sync(),
            height=64,
            expand=True,
        )
        row = ft.Row([self.button])
        order = [self.progress, row] if progress_first else [row, self.progress]
        self.view = ft.Column([*order, self.note_box], spacing=spacing, tight=True)

    def render(
        self, *, syncing: bool, progress: float | None, error: str | None, message: str | None
    ) -> None:
        self.progress.visible = syncing
        self.progress.value = progress
        self.button.disabled = syncing
        text = error or message
        self.note.value, self.note_box.visible = text or "", bool(text)
        self.note.color = theme.DANGER if error else theme.OK
