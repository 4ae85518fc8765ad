"""Small building blocks every screen shares: scaffold, navigation bar, sync bar, chips."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import flet as ft

from app.i18n import tr
from app.ui import theme
from app.ui.router import Cleanup, Screen

# (route, icon, label key, roles allowed or None for all)
TABS: list[tuple[str, ft.IconData, str, frozenset[str] | None]] = [
    ("/home", ft.Icons.ASSIGNMENT, "ui.nav.home", None),
    ("/requests", ft.Icons.SUPPORT_AGENT, "ui.nav.requests", None),
    ("/team", ft.Icons.GROUPS, "ui.nav.team", frozenset({"team_lead", "coordinator"})),
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


def sync_bar(ctx: Any) -> tuple[ft.Control, Cleanup]:
    """Always-visible sync state: online/offline, pending changes, last sync, progress."""
    dot = ft.Container(width=10, height=10, border_radius=5)
    label = ft.Text(size=12)
    progress = ft.ProgressBar(value=None, visible=False)

    def render() -> None:
        s = ctx.sync.status
        dot.bgcolor = theme.OK if s.online else (theme.MUTED if s.online is None else theme.WARN)
        state = tr("ui.sync.online") if s.online else tr("ui.sync.offline")
        last = s.last_sync_label or tr("ui.sync.never")
        label.value = tr("ui.sync.bar", state=state, pending=s.pending, last=last)
        progress.visible = s.syncing
        progress.value = s.progress

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
            ft.Container(
                ft.Row([dot, ft.Semantics(content=label, identifier="sync-state")], spacing=6),
                padding=ft.Padding.symmetric(horizontal=12, vertical=4),
                bgcolor=theme.SURFACE_ALT,
                on_click=open_sync,
                ink=True,
            ),
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
