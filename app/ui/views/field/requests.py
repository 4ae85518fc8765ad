"""``/requests`` (the queue with SLA countdowns), ``/requests/new`` (and the same form from an
assignment) and ``/request/{id}`` (details, status changes, assignee, notes)."""

from __future__ import annotations

from typing import Any

import flet as ft

from app.i18n import tr
from app.ui import theme
from app.ui.context import UiContext
from app.ui.router import Screen
from app.ui.views.field.parts import (
    bind,
    call_button,
    card,
    flag,
    heading,
    info_row,
    muted,
    named,
    picker,
    rejection_banner,
    tap,
    ticker,
    wide,
)
from app.ui.widgets import chip, empty_state, scaffold, touch_button
from app.viewmodels.field_common import tel_url
from app.viewmodels.request_detail import RequestDetailViewModel
from app.viewmodels.request_form import NewRequestViewModel, household_of
from app.viewmodels.requests import RequestListViewModel, RequestRow

TICK_S = 30.0
URGENCY_ICONS = {"emergency": ft.Icons.WARNING, "urgent": ft.Icons.PRIORITY_HIGH}


def _urgency_flag(urgency: str, text: str) -> ft.Control:
    colour = theme.URGENCY_COLOURS.get(urgency, theme.MUTED)
    return flag(text, colour, URGENCY_ICONS.get(urgency, ft.Icons.SCHEDULE))


def _request_row(vm: RequestListViewModel, row: RequestRow) -> ft.Control:
    lines: list[ft.Control] = [
        ft.Row(
            [
                ft.Text(row.category_label, weight=ft.FontWeight.W_600, size=15, expand=True),
                chip(
                    row.status_label,
                    theme.STATUS_COLOURS.get(row.status, theme.MUTED),
                    identifier=f"request-status-{row.id}",
                ),
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
        icon = ft.Icons.ALARM if row.overdue else ft.Icons.TIMER
        marks.append(flag(row.sla_text, colour, icon, identifier=f"request-sla-{row.id}"))
    if row.assignee:
        marks.append(muted(tr("ui.field.home.assignee", name=row.assignee)))
    if row.rejected:
        marks.append(flag(tr("ui.field.rejected_short"), theme.DANGER, ft.Icons.ERROR_OUTLINE))
    lines.append(ft.Row(marks, wrap=True, spacing=4, run_spacing=4))
    accent = theme.URGENCY_COLOURS.get(row.urgency) if row.highlight else None
    return card(
        ft.Column(lines, spacing=4),
        lambda _: vm.open(row.id),
        identifier=f"request-{row.id}",
        accent=accent,
    )


def requests_screen(ctx: UiContext, params: dict[str, str]) -> Screen:
    vm = RequestListViewModel(ctx.device, ctx.nav, ctx.sync)
    filters = ft.Row(
        [
            named(
                picker(
                    tr("ui.field.requests.filter_status"),
                    vm.status_options(),
                    vm.status_filter,
                    vm.set_status_filter,
                    any_text=tr("ui.field.any"),
                ),
                "requests-filter-status",
            ),
            named(
                picker(
                    tr("ui.field.requests.filter_urgency"),
                    vm.urgency_options(),
                    None,
                    vm.set_urgency_filter,
                    any_text=tr("ui.field.any"),
                ),
                "requests-filter-urgency",
            ),
        ],
        spacing=6,
    )
    summary = muted("", size=13)
    items = ft.ListView(expand=True, padding=ft.Padding.only(bottom=88))

    def render() -> None:
        summary.value = tr(
            "ui.field.requests.summary", open=vm.open_count, overdue=vm.overdue_count
        )
        items.controls = [_request_row(vm, r) for r in vm.rows] or [empty_state(vm.empty_text)]

    unsubscribe = bind(ctx, vm, render)
    stop = ticker(TICK_S, vm.refresh)
    fab = ft.FloatingActionButton(
        content=tr("ui.field.requests.new"), icon=ft.Icons.ADD, on_click=lambda _: vm.new()
    )
    body = ft.Column(
        [
            ft.Container(height=6),
            filters,
            ft.Semantics(content=summary, identifier="requests-summary"),
            items,
        ],
        expand=True,
        spacing=6,
    )
    return scaffold(
        ctx,
        "/requests",
        tr("ui.field.requests.title"),
        body,
        tab="/requests",
        fab=fab,
        cleanups=[unsubscribe, stop, vm.close],
    )


# ---------------------------------------------------------------------- new request


def _new_request(ctx: UiContext, route: str, household_id: str | None) -> Screen:
    vm = NewRequestViewModel(ctx.device, ctx.nav, household_id)
    search = ft.TextField(
        label=tr("ui.field.new.household_search"),
        prefix_icon=ft.Icons.SEARCH,
        on_change=lambda e: vm.search(e.control.value or ""),
    )
    matches = ft.Column(spacing=0, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
    chosen = ft.Text(size=15, weight=ft.FontWeight.W_600, expand=True)
    change = ft.TextButton(
        tr("ui.field.new.change_household"),
        on_click=lambda _: vm.change_household(),
        height=theme.TOUCH,
    )
    chosen_row = ft.Semantics(
        identifier="new-request-household",
        content=ft.Row([ft.Icon(ft.Icons.HOME, color=theme.PRIMARY), chosen, change]),
    )
    household_error = ft.Text(color=theme.DANGER, size=12, visible=False)
    category = picker(tr("ui.field.new.category"), vm.category_options(), None, vm.set_category)
    urgency = ft.RadioGroup(
        value=vm.urgency,
        on_change=lambda e: vm.set_urgency(str(e.control.value)),
        content=ft.Column(
            [
                ft.Container(ft.Radio(value=v, label=t), height=theme.TOUCH)
                for v, t in vm.urgency_options()
            ],
            spacing=0,
        ),
    )
    urgency_hint = ft.Text(size=12, color=theme.WARN)
    description = ft.TextField(
        label=tr("ui.field.new.description"),
        multiline=True,
        min_lines=2,
        max_lines=5,
        on_change=lambda e: setattr(vm, "description", e.control.value or ""),
    )
    contact = ft.TextField(
        label=tr("ui.field.new.contact"),
        keyboard_type=ft.KeyboardType.PHONE,
        on_change=lambda e: setattr(vm, "contact", e.control.value or ""),
    )
    form_error = ft.Text(color=theme.DANGER, visible=False)

    def save(_: Any) -> None:
        vm.description = description.value or ""
        vm.contact = contact.value or ""
        vm.save()

    save_button = touch_button(tr("ui.field.new.save"), save, icon=ft.Icons.SAVE, expand=True)

    def render() -> None:
        chosen.value = vm.household_text
        chosen_row.visible = not vm.picking
        search.visible = vm.picking
        if not vm.query:
            search.value = ""
        matches.controls = [
            card(
                ft.Column(
                    [ft.Text(m.address, size=14), *([muted(m.people)] if m.people else [])],
                    spacing=0,
                ),
                tap(vm.choose_household, m.id),
                identifier=f"household-{m.id}",
            )
            for m in vm.matches
        ]
        if vm.query.strip() and not vm.matches:
            matches.controls = [muted(tr("ui.field.new.no_household"))]
        household_error.value = vm.errors.get("household", "")
        household_error.visible = "household" in vm.errors
        category.error_text = vm.errors.get("category")
        contact.error = vm.errors.get("contact")
        if contact.value != vm.contact:
            contact.value = vm.contact
        urgency.value = vm.urgency
        urgency_hint.value = vm.urgency_hint
        urgency_hint.visible = bool(vm.urgency_hint)
        form_error.value = vm.errors.get("form", "")
        form_error.visible = "form" in vm.errors
        save_button.disabled = vm.busy

    unsubscribe = bind(ctx, vm, render)
    body = ft.ListView(
        [
            heading(tr("ui.field.new.household")),
            chosen_row,
            search,
            matches,
            household_error,
            wide(named(category, "new-request-category")),
            heading(tr("ui.field.new.urgency")),
            urgency,
            urgency_hint,
            description,
            contact,
            form_error,
            ft.Row([save_button]),
        ],
        expand=True,
        spacing=10,
        padding=ft.Padding.only(top=8, bottom=32),
    )
    return scaffold(ctx, route, tr("ui.field.new.title"), body, cleanups=[unsubscribe])


def new_request_screen(ctx: UiContext, params: dict[str, str]) -> Screen:
    household = params.get("household_id")
    route = f"/requests/new/{household}" if household else "/requests/new"
    return _new_request(ctx, route, household)


def assignment_request_screen(ctx: UiContext, params: dict[str, str]) -> Screen:
    assignment = ctx.device.get("assignment", params["id"])
    return _new_request(ctx, f"/assignment/{params['id']}/request", household_of(assignment))


# ---------------------------------------------------------------------- request detail


def request_screen(ctx: UiContext, params: dict[str, str]) -> Screen:
    vm = RequestDetailViewModel(ctx.device, ctx.nav, params["id"], ctx.sync)
    note = ft.TextField(
        label=tr("ui.field.request.note"),
        multiline=True,
        min_lines=1,
        max_lines=4,
        on_change=lambda e: setattr(vm, "note", e.control.value or ""),
    )

    def add_note(_: Any) -> None:
        vm.note = note.value or ""
        vm.add_note()

    note_button = touch_button(
        tr("ui.field.request.add_note"), add_note, icon=ft.Icons.NOTE_ADD, primary=False
    )
    body = ft.ListView(expand=True, spacing=10, padding=ft.Padding.only(top=8, bottom=32))

    def assign(member_id: str | None) -> None:
        if member_id:
            vm.assign(member_id)

    def render() -> None:
        if not vm.found:
            body.controls = [empty_state(tr("ui.field.request.missing"))]
            return
        note.value = vm.note
        controls: list[ft.Control] = []
        if vm.rejection is not None:
            controls.append(rejection_banner(vm.rejection.text, lambda _: vm.dismiss_rejection()))
        controls += [
            heading(vm.category_label, size=18),
            ft.Row(
                [
                    chip(
                        vm.status_label,
                        theme.STATUS_COLOURS.get(vm.status, theme.MUTED),
                        identifier="request-status",
                    ),
                    _urgency_flag(vm.urgency, vm.urgency_label),
                ],
                wrap=True,
                spacing=4,
                run_spacing=4,
            ),
        ]
        if vm.sla_text:
            colour = theme.DANGER if vm.overdue else theme.WARN
            controls.append(
                ft.Semantics(
                    identifier="request-sla",
                    content=info_row(
                        ft.Icons.ALARM if vm.overdue else ft.Icons.TIMER, vm.sla_text, colour=colour
                    ),
                )
            )
        controls += [
            info_row(ft.Icons.HOME, vm.address),
            info_row(
                ft.Icons.EVENT,
                tr("ui.field.request.times", created=vm.created_label, due=vm.due_label),
            ),
        ]
        if vm.description:
            controls.append(ft.Text(vm.description, size=15, selectable=True))
        if vm.contact:
            controls.append(call_button(vm.contact, tel_url(vm.contact)))
        controls.append(heading(tr("ui.field.request.assignee")))
        controls.append(ft.Semantics(identifier="request-assignee", content=ft.Text(vm.assignee)))
        if vm.can_assign and vm.members:
            controls.append(
                wide(
                    named(
                        picker(
                            tr("ui.field.request.assign_to"), vm.members, vm.assignee_id, assign
                        ),
                        "request-assign",
                    )
                )
            )
        actions = vm.actions()
        if actions:
            controls.append(heading(tr("ui.field.request.change_status")))
            controls.append(
                ft.ResponsiveRow(
                    [
                        ft.Container(
                            touch_button(
                                text,
                                tap(vm.set_status, to),
                                primary=to != "cancelled",
                                expand=True,
                            ),
                            col={"xs": 6},
                        )
                        for to, text in actions
                    ],
                    spacing=8,
                    run_spacing=8,
                )
            )
        elif not vm.can_change_status:
            controls.append(muted(tr("ui.field.request.not_yours"), size=13))
        if vm.error:
            controls.append(ft.Text(vm.error, color=theme.DANGER))
        controls += [heading(tr("ui.field.request.notes")), note, ft.Row([note_button])]
        if not vm.notes:
            controls.append(muted(tr("ui.field.request.no_notes")))
        for n in vm.notes:
            controls.append(
                ft.Semantics(
                    identifier=f"note-{n.id}",
                    content=ft.Column(
                        [muted(f"{n.at_label} · {n.member}"), ft.Text(n.text, size=14)], spacing=2
                    ),
                )
            )
        body.controls = controls

    unsubscribe = bind(ctx, vm, render)
    stop = ticker(TICK_S, vm.refresh)
    return scaffold(
        ctx,
        f"/request/{params['id']}",
        tr("ui.field.request.title"),
        body,
        cleanups=[unsubscribe, stop, vm.close],
    )
