"""``/settings`` (language, who am I, server, PIN, about, lock) and ``/sync`` (sync state,
"Sync now", the last summary, rejected changes, the server's receipts)."""

from __future__ import annotations

import contextlib
from typing import Any

import flet as ft

from app.i18n import tr
from app.ui import theme
from app.ui.context import UiContext
from app.ui.router import Route, Screen
from app.ui.widgets import scaffold, touch_button
from app.viewmodels.settings import SettingsViewModel
from app.viewmodels.sync_screen import ReceiptRow, RejectionRow, SyncScreenViewModel


def _redraw(ctx: Any) -> None:
    with contextlib.suppress(RuntimeError, AssertionError):
        ctx.page.update()


def _heading(text: str) -> ft.Control:
    return ft.Container(
        ft.Text(text, size=16, weight=ft.FontWeight.W_600),
        padding=ft.Padding.only(top=12, bottom=2),
    )


def _muted(text: str, size: int = 13) -> ft.Text:
    return ft.Text(text, color=theme.MUTED, size=size)


def _card(controls: list[ft.Control], identifier: str | None = None) -> ft.Control:
    box = ft.Container(
        ft.Column(controls, spacing=6, tight=True),
        padding=12,
        border=ft.Border.all(1, "#E0E0E0"),
        border_radius=10,
        bgcolor=ft.Colors.WHITE,
    )
    return ft.Semantics(content=box, identifier=identifier) if identifier else box


def _field(label: str, value: str, identifier: str) -> ft.Control:
    return ft.Column(
        [
            _muted(label, 12),
            ft.Semantics(identifier=identifier, content=ft.Text(value, selectable=True)),
        ],
        spacing=0,
        tight=True,
    )


def _list(controls: list[ft.Control]) -> ft.ListView:
    return ft.ListView(
        controls,
        expand=True,
        spacing=8,
        padding=ft.Padding.symmetric(vertical=8),
        build_controls_on_demand=True,
    )


# ---------------------------------------------------------------------- /settings


def settings_screen(ctx: UiContext, params: dict[str, str]) -> Screen:
    vm = SettingsViewModel(ctx.device, ctx.nav)

    def pin_field(label: str, attr: str) -> ft.TextField:
        field = ft.TextField(
            label=label,
            password=True,
            can_reveal_password=True,
            keyboard_type=ft.KeyboardType.NUMBER,
        )

        def on_change(_: Any) -> None:
            setattr(vm.pin, attr, field.value or "")

        field.on_change = on_change
        return field

    old = pin_field(tr("ui.settings.pin_old"), "old")
    new = pin_field(tr("ui.settings.pin_new"), "new")
    again = pin_field(tr("ui.settings.pin_again"), "again")
    pin_error = ft.Text(color=theme.DANGER, visible=False)

    def change_pin(_: Any) -> None:
        vm.pin.old, vm.pin.new, vm.pin.again = old.value or "", new.value or "", again.value or ""
        ctx.run_background(vm.change_pin)

    pin_button = touch_button(
        tr("ui.settings.pin_submit"), change_pin, icon=ft.Icons.PASSWORD, expand=True
    )

    def language_button(lang: str, text: str) -> ft.Control:
        current = lang == vm.language

        def pick(_: Any) -> None:
            if lang != vm.language:
                vm.set_language(lang)

        return touch_button(
            text,
            pick,
            icon=ft.Icons.CHECK if current else None,
            primary=current,
            expand=True,
        )

    me = vm.who_am_i()
    who: list[ft.Control] = (
        [
            _field(tr("ui.settings.name"), me.name, "me-name"),
            _field(tr("ui.settings.role"), me.role, "me-role"),
            _field(tr("ui.settings.team"), me.team, "me-team"),
            _field(tr("ui.settings.device"), me.device_id, "me-device"),
        ]
        if me
        else [_muted(tr("ui.settings.locked"))]
    )
    s = ctx.sync.status
    sync_state = tr("ui.sync.online") if s.online else tr("ui.sync.offline")
    sync_entry = ft.Semantics(
        identifier="settings-open-sync",
        content=ft.ListTile(
            leading=ft.Icon(ft.Icons.SYNC, color=theme.PRIMARY),
            title=ft.Text(tr("ui.settings.sync_entry"), weight=ft.FontWeight.W_600),
            subtitle=ft.Text(tr("ui.settings.sync_sub", state=sync_state, pending=s.pending)),
            trailing=ft.Icon(ft.Icons.CHEVRON_RIGHT),
            on_click=lambda _: vm.open_sync(),
            min_height=theme.TOUCH + 8,
            bgcolor=ft.Colors.WHITE,
            shape=ft.RoundedRectangleBorder(radius=10),
        ),
    )

    def lock(_: Any) -> None:
        vm.lock_now()

    body = _list(
        [
            _heading(tr("ui.settings.language")),
            ft.Row([language_button(lang, text) for lang, text in vm.languages()], spacing=8),
            _heading(tr("ui.settings.me")),
            _card(who),
            _heading(tr("ui.settings.sync")),
            sync_entry,
            _heading(tr("ui.settings.server")),
            _card(
                [
                    ft.Semantics(
                        identifier="settings-server",
                        content=ft.Text(vm.server_url, selectable=True),
                    ),
                    _muted(tr("ui.settings.server_fixed")),
                ]
            ),
            _heading(tr("ui.settings.pin")),
            old,
            new,
            again,
            pin_error,
            ft.Row([pin_button]),
            _heading(tr("ui.settings.about")),
            _card([ft.Text(vm.about()), _muted(tr("ui.settings.about_note"))]),
            ft.Container(height=8),
            ft.Row(
                [
                    touch_button(
                        tr("ui.settings.lock_now"),
                        lock,
                        icon=ft.Icons.LOCK,
                        colour=theme.DANGER,
                        expand=True,
                    )
                ]
            ),
            ft.Container(height=16),
        ]
    )

    def render() -> None:
        pin_error.value, pin_error.visible = vm.pin_error or "", bool(vm.pin_error)
        pin_button.disabled = vm.pin_busy
        if not (vm.pin.old or vm.pin.new or vm.pin.again):
            old.value = new.value = again.value = ""
        elif not vm.pin.old:
            old.value = ""
        _redraw(ctx)

    unsubscribe = vm.subscribe(render)
    return scaffold(
        ctx, "/settings", tr("ui.settings.title"), body, tab="/settings", cleanups=[unsubscribe]
    )


# ---------------------------------------------------------------------- /sync


def _rejection(row: RejectionRow) -> ft.Control:
    lines: list[ft.Control] = [
        ft.Row(
            [
                ft.Icon(ft.Icons.ERROR_OUTLINE, color=theme.DANGER, size=18),
                ft.Text(row.what, weight=ft.FontWeight.W_600, expand=True),
            ],
            spacing=6,
        ),
        ft.Text(row.text, color=theme.DANGER),
    ]
    if row.at:
        lines.append(_muted(row.at, 12))
    return _card(lines, identifier=f"rejection-{row.op_id}")


def _receipt(row: ReceiptRow) -> ft.Control:
    return _card(
        [
            ft.Row(
                [
                    ft.Icon(ft.Icons.VERIFIED, color=theme.OK, size=18),
                    ft.Text(
                        tr("ui.syncpage.receipt_ops", n=row.ops),
                        weight=ft.FontWeight.W_600,
                        expand=True,
                    ),
                ],
                spacing=6,
            ),
            ft.Text(tr("ui.syncpage.receipt_time", time=row.server_time)),
            _muted(tr("ui.syncpage.receipt_batch", batch=row.batch), 12),
            _muted(tr("ui.syncpage.receipt_sig", sig=row.signature), 12),
        ],
        identifier=f"receipt-{row.batch}",
    )


def sync_screen(ctx: UiContext, params: dict[str, str]) -> Screen:
    vm = SyncScreenViewModel(ctx.sync, ctx.nav)
    dot = ft.Container(width=12, height=12, border_radius=6)
    state = ft.Text(weight=ft.FontWeight.W_600, size=16)
    pending = ft.Text()
    last = ft.Text()
    progress = ft.ProgressBar(visible=False)
    note = ft.Text()
    note_box = ft.Semantics(identifier="syncpage-note", content=note, visible=False)

    def sync_now(_: Any) -> None:
        ctx.run_background(vm.sync_now)

    button = ft.FilledButton(
        content=ft.Text(tr("ui.syncpage.sync_now"), size=18, weight=ft.FontWeight.W_600),
        icon=ft.Icons.SYNC,
        on_click=sync_now,
        height=64,
        expand=True,
    )
    header = ft.Column(
        [
            _card(
                [
                    ft.Row(
                        [dot, ft.Semantics(identifier="syncpage-state", content=state)],
                        spacing=8,
                    ),
                    ft.Semantics(identifier="syncpage-pending", content=pending),
                    ft.Semantics(identifier="syncpage-last", content=last),
                ]
            ),
            ft.Row([button]),
            progress,
            note_box,
        ],
        spacing=8,
    )
    details = _list([])

    def render() -> None:
        s = vm.status
        dot.bgcolor = theme.OK if s.online else (theme.MUTED if s.online is None else theme.WARN)
        state.value = vm.state_text
        pending.value = tr("ui.syncpage.pending", n=s.pending)
        last.value = tr("ui.syncpage.last", time=vm.last_sync)
        progress.visible = s.syncing
        progress.value = s.progress
        button.disabled = s.syncing
        text = vm.error or vm.message
        note.value, note_box.visible = text or "", bool(text)
        note.color = theme.DANGER if vm.error else theme.OK
        items: list[ft.Control] = [_heading(tr("ui.syncpage.last_summary"))]
        summary = vm.summary
        if summary is None:
            items.append(_muted(tr("ui.syncpage.no_summary")))
        else:
            counts = [
                tr("ui.syncpage.sent", n=summary.sent),
                tr("ui.syncpage.acked", n=summary.acked),
                tr("ui.syncpage.received", n=summary.received),
                tr("ui.syncpage.rejected", n=len(summary.rejected)),
            ]
            lines: list[ft.Control] = [
                ft.Row([ft.Text(c) for c in counts], wrap=True, spacing=16, run_spacing=4)
            ]
            if summary.more:
                lines.append(ft.Text(tr("ui.syncpage.more"), color=theme.WARN))
            items.append(_card(lines, identifier="syncpage-summary"))
            items += [_rejection(r) for r in summary.rejected]
            items += [_receipt(r) for r in summary.receipts]
        items.append(_heading(tr("ui.syncpage.rejections", n=len(vm.rejections))))
        items.append(_muted(tr("ui.syncpage.rejections_help")))
        items += [_rejection(r) for r in vm.rejections]
        items.append(_heading(tr("ui.syncpage.receipts", n=len(vm.receipts))))
        items.append(_muted(tr("ui.syncpage.receipts_help")))
        items += [_receipt(r) for r in vm.receipts]
        items.append(ft.Container(height=16))
        details.controls = items

    def changed() -> None:
        render()
        _redraw(ctx)

    render()
    unsubscribe = vm.subscribe(changed)
    content = ft.Column([header, details], expand=True, spacing=8)
    return scaffold(
        ctx, "/sync", tr("ui.syncpage.title"), content, cleanups=[unsubscribe, vm.close]
    )


ROUTES = [
    Route("/settings", settings_screen),
    Route("/sync", sync_screen, parent="/settings"),
]
