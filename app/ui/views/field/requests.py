"""``/requests`` (the queue with SLA countdowns) and ``/request/{id}`` (details, status changes,
assignee, notes); the new-request form is in :mod:`app.ui.views.field.new_request`."""

from __future__ import annotations

from typing import Any

import flet as ft

from app.i18n import tr
from app.ui import theme
from app.ui.context import UiContext
from app.ui.router import Screen
from app.ui.views.field.parts import (
    call_button,
    card,
    filter_picker,
    flag,
    heading,
    info_row,
    list_page,
    marks_row,
    muted,
    named,
    picker,
    rejected_flag,
    rejection_banner,
    text_area,
    ticker,
    wide,
)
from app.ui.widgets import chip, empty_state, tap, touch_button, vm_screen
from app.viewmodels.field_common import tel_url
from app.viewmodels.request_detail import RequestDetailViewModel
from app.viewmodels.requests import RequestListViewModel, RequestRow

TICK_S = 30.0
URGENCY_ICONS = {"emergency": ft.Icons.WARNING, "urgent": ft.Icons.PRIORITY_HIGH}


def _urgency_flag(urgency: str, text: str) -> ft.Control:
    colour = theme.URGENCY_COLOURS.get(urgency, theme.MUTED)
    return flag(text, colour, URGENCY_ICONS.get(urgency, ft.Icons.SCHEDULE))


def _status_chip(status: str, text: str, identifier: str) -> ft.Control:
    return chip(text, theme.STATUS_COLOURS.get(status, theme.MUTED), identifier=identifier)


def _sla_icon(overdue: bool) -> ft.IconData:
    return ft.Icons.ALARM if overdue else ft.Icons.TIMER


def _request_row(vm: RequestListViewModel, row: RequestRow) -> ft.Control:
    lines: list[ft.Control] = [
        ft.Row(
            [
                ft.Text(row.category_label, weight=ft.FontWeight.W_600, size=15, expand=True),
                _status_chip(row.status, row.status_label, f"request-status-{row.id}"),
            ],
            vertical_alignment=ft.CrossAxisAlignment.START,
        ),
        muted(row.address, size=13),
    ]
    if row.description:
        lines.append(
            ft.Text(row.description, size=13, max_lines=2, overflow=ft.TextOverflow.ELLIPSIS)
        )
    marks: list[ft.Control] = [_urgency_flag(row.urgency, row.urgency_label)]
    if row.sla_text:
        colour = theme.DANGER if row.overdue else theme.MUTED
        sla = flag(row.sla_text, colour, _sla_icon(row.overdue), identifier=f"request-sla-{row.id}")
        marks.append(sla)
    if row.assignee:
        marks.append(muted(tr("ui.field.home.assignee", name=row.assignee)))
    if row.rejected:
        marks.append(rejected_flag())
    lines.append(marks_row(marks))
    accent = theme.URGENCY_COLOURS.get(row.urgency) if row.highlight else None
    return card(lines, tap(vm.open, row.id), identifier=f"request-{row.id}", accent=accent)


def _filters(vm: RequestListViewModel) -> ft.Control:
    status = filter_picker(
        tr("ui.field.requests.filter_status"),
        "requests-filter-status",
        vm.status_options(),
        vm.status_filter,
        vm.set_status_filter,
    )
    urgency = filter_picker(
        tr("ui.field.requests.filter_urgency"),
        "requests-filter-urgency",
        vm.urgency_options(),
        None,
        vm.set_urgency_filter,
    )
    return ft.Row([status, urgency], spacing=6)


def requests_screen(ctx: UiContext, params: dict[str, str]) -> Screen:
    vm = RequestListViewModel(ctx.device, ctx.nav, ctx.sync)
    summary = muted("", size=13)
    items = ft.ListView(expand=True, padding=ft.Padding.only(bottom=88))

    def render() -> None:
        summary.value = tr(
            "ui.field.requests.summary", open=vm.open_count, overdue=vm.overdue_count
        )
        items.controls = [_request_row(vm, r) for r in vm.rows] or [empty_state(vm.empty_text)]

    fab = ft.FloatingActionButton(
        content=tr("ui.field.requests.new"), icon=ft.Icons.ADD, on_click=lambda _: vm.new()
    )
    body = list_page(6, _filters(vm), summary, "requests-summary", items)
    stop = ticker(TICK_S, vm.refresh)
    title = tr("ui.field.requests.title")
    return vm_screen(
        ctx, vm, render, "/requests", title, body, tab="/requests", fab=fab, cleanups=(stop,)
    )


# ---------------------------------------------------------------------- request detail


def _facts(vm: RequestDetailViewModel) -> list[ft.Control]:
    """What is asked, its state and deadline, where, when, the details and whom to call."""
    status = _status_chip(vm.status, vm.status_label, "request-status")
    controls: list[ft.Control] = [
        heading(vm.category_label, size=18),
        marks_row([status, _urgency_flag(vm.urgency, vm.urgency_label)]),
    ]
    if vm.sla_text:
        colour = theme.DANGER if vm.overdue else theme.WARN
        sla = info_row(_sla_icon(vm.overdue), vm.sla_text, colour=colour)
        controls.append(ft.Semantics(identifier="request-sla", content=sla))
    times = tr("ui.field.request.times", created=vm.created_label, due=vm.due_label)
    controls += [info_row(ft.Icons.HOME, vm.address), info_row(ft.Icons.EVENT, times)]
    if vm.description:
        controls.append(ft.Text(vm.description, size=15, selectable=True))
    if vm.contact:
        controls.append(call_button(vm.contact, tel_url(vm.contact)))
    return controls


def _assignee(vm: RequestDetailViewModel) -> list[ft.Control]:
    """Who handles it, and (for a lead) the picker to hand it to someone else."""

    def assign(member_id: str | None) -> None:
        if member_id:
            vm.assign(member_id)

    controls: list[ft.Control] = [
        heading(tr("ui.field.request.assignee")),
        ft.Semantics(identifier="request-assignee", content=ft.Text(vm.assignee)),
    ]
    if vm.can_take:

        def take_it(_: object) -> None:
            vm.take()

        take = touch_button(tr("ui.field.request.take"), take_it, primary=True, expand=True)
        controls.append(ft.Semantics(identifier="request-take", content=take))
    if vm.can_assign and vm.members:
        label = tr("ui.field.request.assign_to")
        assign_to = picker(label, vm.members, vm.assignee_id, assign)
        controls.append(wide(named(assign_to, "request-assign")))
    return controls


def _status_actions(vm: RequestDetailViewModel) -> list[ft.Control]:
    """A button for each status this person may move the request to."""
    actions = vm.actions()
    if not actions:
        return [] if vm.can_change_status else [muted(tr("ui.field.request.not_yours"), size=13)]
    buttons: list[ft.Control] = [
        ft.Container(
            touch_button(text, tap(vm.set_status, to), primary=to != "cancelled", expand=True),
            col={"xs": 6},
        )
        for to, text in actions
    ]
    return [
        heading(tr("ui.field.request.change_status")),
        ft.ResponsiveRow(buttons, spacing=8, run_spacing=8),
    ]


def _notes(vm: RequestDetailViewModel) -> list[ft.Control]:
    if not vm.notes:
        return [muted(tr("ui.field.request.no_notes"))]
    return [
        ft.Semantics(
            identifier=f"note-{n.id}",
            content=ft.Column(
                [
                    ft.Row(
                        [muted(f"{n.at_label} · {n.member}")]
                        + (
                            [flag(tr("ui.field.unsent"), theme.WARN, ft.Icons.CLOUD_UPLOAD)]
                            if n.unsent
                            else []
                        ),
                        wrap=True,
                    ),
                    ft.Text(n.text, size=14),
                ],
                spacing=2,
            ),
        )
        for n in vm.notes
    ]


def request_screen(ctx: UiContext, params: dict[str, str]) -> Screen:
    vm = RequestDetailViewModel(ctx.device, ctx.nav, params["id"], ctx.sync)
    note = text_area(tr("ui.field.request.note"), lambda text: setattr(vm, "note", text))

    def add_note(_: Any) -> None:
        vm.note = note.value or ""
        vm.add_note()

    note_button = touch_button(
        tr("ui.field.request.add_note"), add_note, icon=ft.Icons.NOTE_ADD, primary=False
    )
    note_form = [heading(tr("ui.field.request.notes")), note, ft.Row([note_button])]
    body = ft.ListView(expand=True, spacing=10, padding=ft.Padding.only(top=8, bottom=32))

    def render() -> None:
        if not vm.found:
            body.controls = [empty_state(tr("ui.field.request.missing"))]
            return
        note.value = vm.note
        controls: list[ft.Control] = []
        if vm.rejection is not None:
            controls.append(rejection_banner(vm.rejection.text, lambda _: vm.dismiss_rejection()))
        controls += [*_facts(vm), *_assignee(vm), *_status_actions(vm)]
        if vm.error:
            controls.append(ft.Text(vm.error, color=theme.DANGER))
        body.controls = [*controls, *note_form, *_notes(vm)]

    stop = ticker(TICK_S, vm.refresh)
    title = tr("ui.field.request.title")
    return vm_screen(ctx, vm, render, f"/request/{params['id']}", title, body, cleanups=(stop,))
