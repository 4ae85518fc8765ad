"""``/team/handover`` (shift handover notes) and ``/team/summary`` (end of shift)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flet as ft

from app.i18n import tr
from app.ui import theme
from app.ui.context import UiContext
from app.ui.panels import EDGE, card, heading, muted, scrolling
from app.ui.router import Screen
from app.ui.views.team.parts import overdue_chip, tappable
from app.ui.widgets import SyncNow, chip, empty_state, leads_only, touch_button, vm_screen
from app.viewmodels.team import HandoverViewModel, RequestRow, ShiftSummaryViewModel
from sync.domain.schema import NOTE_MAX


def _shift(vm: HandoverViewModel, start_shift: Callable[[Any], None]) -> list[ft.Control]:
    """The shift under way (or that there is none), and the button to start one."""
    if vm.shift is None:
        items = [card([ft.Text(tr("ui.team.no_shift"))], identifier="handover-no-shift")]
    else:
        label = ft.Text(vm.shift_label, weight=ft.FontWeight.W_600)
        items = [card([label], identifier="handover-shift")]
    if vm.can_start_shift:
        start = touch_button(
            tr("ui.team.start_shift"),
            start_shift,
            icon=ft.Icons.PLAY_ARROW,
            primary=vm.shift is None,
            expand=True,
        )
        items.append(ft.Row([start]))
    return items


def _notes(vm: HandoverViewModel) -> list[ft.Control]:
    notes = [
        card(
            [muted(f"{n.author} · {n.at}", size=12), ft.Text(n.text, selectable=True)],
            identifier=f"note-{n.id}",
        )
        for n in vm.notes
    ]
    return [
        heading(tr("ui.team.notes", n=len(vm.notes))),
        *(notes or [empty_state(tr("ui.team.no_notes"))]),
    ]


def handover_screen(ctx: UiContext, params: dict[str, str]) -> Screen:
    vm = HandoverViewModel(ctx.device, ctx.nav)
    body = scrolling([])
    draft = ft.TextField(
        label=tr("ui.team.note_label"),
        multiline=True,
        min_lines=3,
        max_lines=8,
        max_length=NOTE_MAX,
    )
    error = ft.Text(color=theme.DANGER, visible=False)

    def on_draft(e: Any) -> None:
        vm.draft = draft.value or ""

    draft.on_change = on_draft

    def append(_: Any) -> None:
        vm.draft = draft.value or ""
        if vm.append():
            draft.value = ""

    def start_shift(_: Any) -> None:
        vm.start_shift()

    add_button = touch_button(tr("ui.team.add_note"), append, icon=ft.Icons.NOTE_ADD, expand=True)

    def render() -> None:
        if not vm.allowed:
            body.controls = [leads_only()]
            return
        error.value, error.visible = vm.error or "", bool(vm.error)
        items = _shift(vm, start_shift)
        if vm.shift is not None:
            add_button.disabled = vm.busy
            items += [draft, error, ft.Row([add_button]), *_notes(vm)]
        elif vm.error:
            items.append(error)
        body.controls = items

    return vm_screen(ctx, vm, render, "/team/handover", tr("ui.team.handover"), body)


def _stat(value: int, text: str, colour: str, identifier: str) -> ft.Control:
    return ft.Container(
        ft.Semantics(
            identifier=identifier,
            content=ft.Column(
                [
                    ft.Text(str(value), size=28, weight=ft.FontWeight.BOLD, color=colour),
                    ft.Text(text, size=13, color=theme.MUTED),
                ],
                spacing=0,
                tight=True,
                horizontal_alignment=ft.CrossAxisAlignment.CENTER,
            ),
        ),
        padding=8,
        border=ft.Border.all(1, EDGE),
        border_radius=10,
        bgcolor=ft.Colors.WHITE,
        alignment=ft.Alignment.CENTER,
        col={"xs": 6, "sm": 3},
    )


def _request_card(row: RequestRow, vm: ShiftSummaryViewModel) -> ft.Control:
    tags: list[ft.Control] = [
        chip(row.urgency_label, theme.URGENCY_COLOURS.get(row.urgency, theme.MUTED)),
        chip(row.status_label, theme.MUTED),
    ]
    if row.overdue:
        tags.append(overdue_chip())
    lines: list[ft.Control] = [
        ft.Row(tags, wrap=True, spacing=6, run_spacing=6),
        ft.Text(row.category, weight=ft.FontWeight.W_600),
    ]
    if row.place:
        lines.append(ft.Text(row.place))
    if row.due:
        lines.append(muted(tr("ui.team.due", due=row.due)))
    return tappable(
        ft.Column(lines, spacing=4, tight=True),
        lambda _: vm.open_request(row.id),
        identifier=f"request-{row.id}",
    )


def _unsynced(n: int) -> ft.Control:
    """Whether all of this phone's changes have reached the server."""
    text = tr("ui.team.unsynced", n=n) if n else tr("ui.team.all_synced")
    icon = ft.Icon(
        ft.Icons.CLOUD_UPLOAD if n else ft.Icons.CLOUD_DONE, color=theme.WARN if n else theme.OK
    )
    row = ft.Row([icon, ft.Text(text, weight=ft.FontWeight.W_600, expand=True)])
    return card([row], identifier="summary-unsynced")


def _summary(vm: ShiftSummaryViewModel) -> list[ft.Control]:
    p = vm.progress
    overdue_colour = theme.DANGER if p.overdue else theme.MUTED
    stats = [
        _stat(p.done, tr("ui.team.done"), theme.OK, "summary-done"),
        _stat(p.todo, tr("ui.team.todo"), theme.INFO, "summary-todo"),
        _stat(p.revisit, tr("ui.team.revisit"), theme.WARN, "summary-revisit"),
        _stat(p.overdue, tr("ui.team.overdue"), overdue_colour, "summary-overdue"),
    ]
    urgent = [_request_card(r, vm) for r in vm.urgent] or [empty_state(tr("ui.team.no_urgent"))]
    return [
        heading(tr("ui.team.assignments", n=p.total)),
        ft.ResponsiveRow(stats, spacing=8, run_spacing=8),
        _unsynced(vm.unsynced),
        heading(tr("ui.team.urgent_open", n=len(vm.urgent))),
        *urgent,
    ]


def summary_screen(ctx: UiContext, params: dict[str, str]) -> Screen:
    vm = ShiftSummaryViewModel(ctx.device, ctx.sync, ctx.nav)
    body = scrolling([])
    sync_now = SyncNow(
        tr("ui.team.sync_now"),
        lambda: ctx.run_background(vm.sync_now),
        note_id="summary-note",
        progress_first=True,
        spacing=6,
    )
    footer = ft.Container(sync_now.view, padding=ft.Padding.symmetric(vertical=8))

    def render() -> None:
        if not vm.allowed:
            body.controls = [leads_only()]
            footer.visible = False
            return
        body.controls = _summary(vm)
        sync_now.render(
            syncing=vm.syncing, progress=vm.sync_progress, error=vm.error, message=vm.message
        )

    content = ft.Column([body, footer], expand=True, spacing=0)
    return vm_screen(ctx, vm, render, "/team/summary", tr("ui.team.summary"), content)
