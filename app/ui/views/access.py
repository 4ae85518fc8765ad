"""Setup (first run) and unlock screens."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flet as ft

from app.i18n import tr
from app.ui import theme
from app.ui.context import UiContext
from app.ui.router import Route, Screen
from app.ui.widgets import Announcing, bind, practice_banner, touch_button
from app.viewmodels.access import SetupViewModel, UnlockViewModel


def _screen(
    ctx: UiContext,
    vm: Announcing,
    render: Callable[[], None],
    route: str,
    title: str,
    controls: list[ft.Control],
) -> Screen:
    """A full-page form without the sync and tab bars, showing ``vm`` through ``render``."""
    view = ft.View(
        route=route,
        appbar=ft.AppBar(title=ft.Text(title)),
        controls=[
            ft.Container(
                ft.Column(
                    controls,
                    spacing=theme.GAP * 2,
                    scroll=ft.ScrollMode.AUTO,
                    horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
                ),
                padding=16,
                expand=True,
            )
        ],
        padding=0,
    )
    return Screen(view, [bind(ctx, vm, render)])


def setup_screen(ctx: UiContext, params: dict[str, str]) -> Screen:
    vm = SetupViewModel(ctx.device, ctx.nav, server_url=ctx.page.data or None)
    server = ft.TextField(label=tr("ui.setup.server"), value=vm.form.server_url)
    code = ft.TextField(label=tr("ui.setup.code"), capitalization=ft.TextCapitalization.CHARACTERS)
    pin = ft.TextField(
        label=tr("ui.setup.pin"),
        password=True,
        can_reveal_password=True,
        keyboard_type=ft.KeyboardType.NUMBER,
    )
    pin2 = ft.TextField(
        label=tr("ui.setup.pin_again"), password=True, keyboard_type=ft.KeyboardType.NUMBER
    )
    error = ft.Text(color=theme.DANGER, visible=False)
    progress = ft.ProgressBar(visible=False)
    status = ft.Text(visible=False)

    def submit(_: Any) -> None:
        vm.form.server_url, vm.form.code = server.value or "", code.value or ""
        vm.form.pin, vm.form.pin_again = pin.value or "", pin2.value or ""
        ctx.run_background(vm.submit)

    button = touch_button(tr("ui.setup.submit"), submit, icon=ft.Icons.LOGIN, expand=True)

    def render() -> None:
        error.value, error.visible = vm.error or "", bool(vm.error)
        progress.visible = vm.busy
        progress.value = vm.progress
        status.visible = vm.busy
        status.value = tr("ui.setup.working")
        button.disabled = vm.busy

    return _screen(
        ctx,
        vm,
        render,
        "/setup",
        tr("ui.setup.title"),
        [
            ft.Text(tr("ui.setup.intro"), color=theme.MUTED),
            server,
            code,
            pin,
            pin2,
            error,
            ft.Row([button]),
            progress,
            status,
        ],
    )


def unlock_screen(ctx: UiContext, params: dict[str, str]) -> Screen:
    vm = UnlockViewModel(ctx.device, ctx.nav)
    pin = ft.TextField(
        label=tr("ui.unlock.pin"),
        password=True,
        keyboard_type=ft.KeyboardType.NUMBER,
        autofocus=True,
    )
    error = ft.Text(color=theme.DANGER, visible=False)
    notice = ft.Text(vm.notice or "", color=theme.WARN, visible=bool(vm.notice))

    def submit(_: Any) -> None:
        vm.pin = pin.value or ""
        ctx.run_background(vm.submit)

    pin.on_submit = submit
    button = touch_button(tr("ui.unlock.submit"), submit, icon=ft.Icons.LOCK_OPEN, expand=True)

    def render() -> None:
        error.value, error.visible = vm.error or "", bool(vm.error)
        button.disabled = vm.busy
        if not vm.pin:
            pin.value = ""

    return _screen(
        ctx,
        vm,
        render,
        "/unlock",
        tr("ui.unlock.title"),
        [
            practice_banner(vm.practice),
            ft.Icon(ft.Icons.LOCK, size=48, color=theme.PRIMARY),
            ft.Text(tr("ui.unlock.intro"), color=theme.MUTED),
            notice,
            pin,
            error,
            ft.Row([button]),
        ],
    )


ROUTES = [Route("/setup", setup_screen), Route("/unlock", unlock_screen)]
