"""``/settings``: language, who am I, the way to the sync screen, the server, PIN, about, lock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flet as ft

from app.i18n import tr
from app.ui import theme
from app.ui.context import UiContext
from app.ui.panels import card, heading, list_tile, muted, scrolling
from app.ui.router import Route, Screen
from app.ui.views.sync import sync_screen
from app.ui.widgets import bind, scaffold, touch_button
from app.viewmodels.settings import SettingsViewModel


def _field(label: str, value: str, identifier: str) -> ft.Control:
    return ft.Column(
        [
            muted(label, size=12),
            ft.Semantics(identifier=identifier, content=ft.Text(value, selectable=True)),
        ],
        spacing=0,
        tight=True,
    )


def _languages(vm: SettingsViewModel) -> ft.Control:
    def button(lang: str, text: str) -> ft.Control:
        current = lang == vm.language

        def pick(_: Any) -> None:
            if lang != vm.language:
                vm.set_language(lang)

        icon = ft.Icons.CHECK if current else None
        return touch_button(text, pick, icon=icon, primary=current, expand=True)

    return ft.Row([button(lang, text) for lang, text in vm.languages()], spacing=8)


def _who_am_i(vm: SettingsViewModel) -> ft.Control:
    me = vm.who_am_i()
    if me is None:
        return card([muted(tr("ui.settings.locked"))])
    return card(
        [
            _field(tr("ui.settings.name"), me.name, "me-name"),
            _field(tr("ui.settings.role"), me.role, "me-role"),
            _field(tr("ui.settings.team"), me.team, "me-team"),
            _field(tr("ui.settings.device"), me.device_id, "me-device"),
        ]
    )


def _sync_entry(ctx: UiContext, vm: SettingsViewModel) -> ft.Control:
    s = ctx.sync.status
    state = tr("ui.sync.online") if s.online else tr("ui.sync.offline")
    return list_tile(
        "settings-open-sync",
        icon=ft.Icon(ft.Icons.SYNC, color=theme.PRIMARY),
        title=tr("ui.settings.sync_entry"),
        subtitle=tr("ui.settings.sync_sub", state=state, pending=s.pending),
        trailing=ft.Icon(ft.Icons.CHEVRON_RIGHT),
        on_click=lambda _: vm.open_sync(),
    )


def _server(vm: SettingsViewModel) -> ft.Control:
    url = ft.Semantics(
        identifier="settings-server", content=ft.Text(vm.server_url, selectable=True)
    )
    return card([url, muted(tr("ui.settings.server_fixed"))])


def _pin_form(ctx: UiContext, vm: SettingsViewModel) -> tuple[list[ft.Control], Callable[[], None]]:
    """The change-PIN fields, their error and button, and the render that follows ``vm.pin``."""

    def pin_field(label: str, attr: str) -> ft.TextField:
        def on_change(e: Any) -> None:
            setattr(vm.pin, attr, e.control.value or "")

        return ft.TextField(
            label=label,
            password=True,
            can_reveal_password=True,
            keyboard_type=ft.KeyboardType.NUMBER,
            on_change=on_change,
        )

    old = pin_field(tr("ui.settings.pin_old"), "old")
    new = pin_field(tr("ui.settings.pin_new"), "new")
    again = pin_field(tr("ui.settings.pin_again"), "again")
    error = ft.Text(color=theme.DANGER, visible=False)
    renew = ft.Text(tr("ui.settings.pin_renew"), color=theme.WARN, visible=vm.pin_renewal_due)

    def change_pin(_: Any) -> None:
        vm.pin.old, vm.pin.new, vm.pin.again = old.value or "", new.value or "", again.value or ""
        ctx.run_background(vm.change_pin)

    button = touch_button(
        tr("ui.settings.pin_submit"), change_pin, icon=ft.Icons.PASSWORD, expand=True
    )

    def render() -> None:
        error.value, error.visible = vm.pin_error or "", bool(vm.pin_error)
        renew.visible = vm.pin_renewal_due
        button.disabled = vm.pin_busy
        if not (vm.pin.old or vm.pin.new or vm.pin.again):
            old.value = new.value = again.value = ""
        elif not vm.pin.old:
            old.value = ""

    return [renew, old, new, again, error, ft.Row([button])], render


def _lock(vm: SettingsViewModel) -> ft.Control:
    def lock(_: Any) -> None:
        vm.lock_now()

    return ft.Row(
        [
            touch_button(
                tr("ui.settings.lock_now"),
                lock,
                icon=ft.Icons.LOCK,
                colour=theme.DANGER,
                expand=True,
            )
        ]
    )


def settings_screen(ctx: UiContext, params: dict[str, str]) -> Screen:
    vm = SettingsViewModel(ctx.device, ctx.nav)
    pin_form, render_pin = _pin_form(ctx, vm)
    body = scrolling(
        [
            heading(tr("ui.settings.language"), below=2),
            _languages(vm),
            heading(tr("ui.settings.me"), below=2),
            _who_am_i(vm),
            heading(tr("ui.settings.sync"), below=2),
            _sync_entry(ctx, vm),
            heading(tr("ui.settings.server"), below=2),
            _server(vm),
            heading(tr("ui.settings.pin"), below=2),
            *pin_form,
            heading(tr("ui.settings.about"), below=2),
            card([ft.Text(vm.about()), muted(tr("ui.settings.about_note"))]),
            ft.Container(height=8),
            _lock(vm),
            ft.Container(height=16),
        ]
    )
    unsubscribe = bind(ctx, vm, render_pin)
    return scaffold(
        ctx, "/settings", tr("ui.settings.title"), body, tab="/settings", cleanups=[unsubscribe]
    )


ROUTES = [
    Route("/settings", settings_screen),
    Route("/sync", sync_screen, parent="/settings"),
]
