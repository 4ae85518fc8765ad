"""``/team/handover`` (shift handover notes) and ``/team/summary`` (end of shift)."""

from __future__ import annotations

from typing import Any

import flet as ft

from app.i18n import tr
from app.ui import theme
from app.ui.context import UiContext
from app.ui.router import Screen
from app.ui.views.team.parts import (
    card,
    heading,
    leads_only,
    muted,
    overdue_chip,
    redraw,
    scrolling,
    tappable,
)
from app.ui.widgets import chip, empty_state, scaffold, touch_button
from app.viewmodels.team import HandoverViewModel, RequestRow, ShiftSummaryViewModel
from sync.domain.schema import NOTE_MAX


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
        items: list[ft.Control] = []
        if vm.shift is None:
            items.append(card([ft.Text(tr("ui.team.no_shift"))], identifier="handover-no-shift"))
        else:
            items.append(
                card(
                    [ft.Text(vm.shift_label, weight=ft.FontWeight.W_600)],
                    identifier="handover-shift",
                )
            )
        if vm.can_start_shift:
            items.append(
                ft.Row(
                    [
                        touch_button(
                            tr("ui.team.start_shift"),
                            start_shift,
                            icon=ft.Icons.PLAY_ARROW,
                            primary=vm.shift is None,
                            expand=True,
                        )
                    ]
                )
            )
        if vm.shift is not None:
            add_button.disabled = vm.busy
            items += [draft, error, ft.Row([add_button])]
            items.append(heading(tr("ui.team.notes", n=len(vm.notes))))
            items += [
                card(
                    [muted(f"{n.author} · {n.at}", size=12), ft.Text(n.text, selectable=True)],
                    identifier=f"note-{n.id}",
                )
                for n in vm.notes
            ] or [empty_state(tr("ui.team.no_notes"))]
        elif vm.error:
            items.append(error)
        body.controls = items

    def changed() -> None:
        render()
        redraw(ctx)

    render()
    unsubscribe = vm.subscribe(changed)
    return scaffold(
        ctx, "/team/handover", tr("ui.team.handover"), body, cleanups=[unsubscribe, vm.close]
    )


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
        border=ft.Border.all(1, "#E0E0E0"),
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


def summary_screen(ctx: UiContext, params: dict[str, str]) -> Screen:
    vm = ShiftSummaryViewModel(ctx.device, ctx.sync, ctx.nav)
    body = scrolling([])
    progress = ft.ProgressBar(visible=False)
    note = ft.Text()
    note_box = ft.Semantics(identifier="summary-note", content=note, visible=False)

    def sync_now(_: Any) -> None:
        ctx.run_background(vm.sync_now)

    button = ft.FilledButton(
        content=ft.Text(tr("ui.team.sync_now"), size=18, weight=ft.FontWeight.W_600),
        icon=ft.Icons.SYNC,
        on_click=sync_now,
        height=64,
        expand=True,
    )
    footer = ft.Container(
        ft.Column([progress, ft.Row([button]), note_box], spacing=6, tight=True),
        padding=ft.Padding.symmetric(vertical=8),
    )

    def render() -> None:
        if not vm.allowed:
            body.controls = [leads_only()]
            footer.visible = False
            return
        p = vm.progress
        unsynced = vm.unsynced
        sync_text = tr("ui.team.unsynced", n=unsynced) if unsynced else tr("ui.team.all_synced")
        body.controls = [
            heading(tr("ui.team.assignments", n=p.total)),
            ft.ResponsiveRow(
                [
                    _stat(p.done, tr("ui.team.done"), theme.OK, "summary-done"),
                    _stat(p.todo, tr("ui.team.todo"), theme.INFO, "summary-todo"),
                    _stat(p.revisit, tr("ui.team.revisit"), theme.WARN, "summary-revisit"),
                    _stat(
                        p.overdue,
                        tr("ui.team.overdue"),
                        theme.DANGER if p.overdue else theme.MUTED,
                        "summary-overdue",
                    ),
                ],
                spacing=8,
                run_spacing=8,
            ),
            card(
                [
                    ft.Row(
                        [
                            ft.Icon(
                                ft.Icons.CLOUD_UPLOAD if unsynced else ft.Icons.CLOUD_DONE,
                                color=theme.WARN if unsynced else theme.OK,
                            ),
                            ft.Text(sync_text, weight=ft.FontWeight.W_600, expand=True),
                        ]
                    )
                ],
                identifier="summary-unsynced",
            ),
            heading(tr("ui.team.urgent_open", n=len(vm.urgent))),
            *([_request_card(r, vm) for r in vm.urgent] or [empty_state(tr("ui.team.no_urgent"))]),
        ]
        progress.visible = vm.syncing
        progress.value = vm.sync_progress
        button.disabled = vm.syncing
        text = vm.error or vm.message
        note.value, note_box.visible = text or "", bool(text)
        note.color = theme.DANGER if vm.error else theme.OK

    def changed() -> None:
        render()
        redraw(ctx)

    render()
    unsubscribe = vm.subscribe(changed)
    content = ft.Column([body, footer], expand=True, spacing=0)
    return scaffold(
        ctx, "/team/summary", tr("ui.team.summary"), content, cleanups=[unsubscribe, vm.close]
    )
