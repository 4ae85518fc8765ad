"""``/assignment/{id}`` — the household, what to do, the result, one-tap visit outcomes and the
visit history."""

from __future__ import annotations

import flet as ft

from app.i18n import tr
from app.ui import theme
from app.ui.context import UiContext
from app.ui.router import Screen
from app.ui.views.field.parts import (
    HIGH_PRIORITIES,
    LINE,
    call_button,
    flag,
    heading,
    info_row,
    key_care_flag,
    marks_row,
    muted,
    named,
    overdue_flag,
    picker,
    rejection_banner,
    text_area,
    wide,
)
from app.ui.widgets import chip, empty_state, tap, touch_button, vm_screen
from app.viewmodels.assignment import AssignmentViewModel, ResidentRow, ResultField
from app.viewmodels.field_common import tel_url

OUTCOME_STYLE: dict[str, tuple[str, ft.IconData]] = {
    "done": (theme.OK, ft.Icons.CHECK_CIRCLE),
    "no_answer": (theme.WARN, ft.Icons.DOOR_FRONT_DOOR),
    "refused": (theme.DANGER, ft.Icons.BLOCK),
    "revisit": (theme.INFO, ft.Icons.SCHEDULE),
}


def _resident(r: ResidentRow) -> ft.Control:
    top: list[ft.Control] = [ft.Text(r.name, weight=ft.FontWeight.W_600, size=15)]
    if r.age_label:
        top.append(muted(r.age_label))
    lines: list[ft.Control] = [ft.Row(top, wrap=True, spacing=8)]
    if r.care_labels:
        lines.append(
            ft.Row(
                [flag(t, theme.PRIMARY, ft.Icons.FAVORITE) for t in r.care_labels],
                wrap=True,
                spacing=4,
                run_spacing=4,
            )
        )
    if r.care_note:
        lines.append(muted(r.care_note, size=13))
    if r.phone:
        lines.append(call_button(r.phone, tel_url(r.phone)))
    return ft.Semantics(
        identifier=f"resident-{r.id}",
        content=ft.Container(
            ft.Column(lines, spacing=4),
            padding=ft.Padding.symmetric(vertical=6),
            border=ft.Border.only(bottom=ft.BorderSide(1, LINE)),
        ),
    )


def _result_input(vm: AssignmentViewModel, f: ResultField) -> ft.Control:
    text = f.label + (" *" if f.required else "")
    value = vm.result.get(f.name, "")
    if f.input == "choice":
        return wide(
            named(
                picker(
                    text,
                    list(f.choices),
                    value or None,
                    lambda v: vm.set_result(f.name, v or ""),
                    any_text=tr("ui.field.visit.not_given"),
                ),
                f"result-{f.name}",
            )
        )
    numeric = f.input == "count"
    return ft.TextField(
        label=text,
        value=value,
        keyboard_type=ft.KeyboardType.NUMBER if numeric else ft.KeyboardType.TEXT,
        multiline=f.name == "summary",
        min_lines=1,
        max_lines=4 if f.name == "summary" else 1,
        on_change=lambda e: vm.set_result(f.name, e.control.value or ""),
    )


def _marks(vm: AssignmentViewModel) -> ft.Control:
    """Status, type, priority, overdue and key care, in words and icons."""
    marks: list[ft.Control] = [
        chip(
            vm.status_label,
            theme.STATUS_COLOURS.get(vm.status, theme.MUTED),
            identifier="assignment-status",
        ),
        flag(vm.type_label, theme.INFO, ft.Icons.ASSIGNMENT),
    ]
    high = vm.priority in HIGH_PRIORITIES
    marks.append(
        flag(
            tr("ui.field.visit.priority", priority=vm.priority_label),
            theme.WARN if high else theme.MUTED,
            ft.Icons.PRIORITY_HIGH if high else ft.Icons.LOW_PRIORITY,
        )
    )
    if vm.overdue:
        marks.append(overdue_flag())
    if vm.key_care:
        marks.append(key_care_flag())
    return marks_row(marks)


def _task(vm: AssignmentViewModel) -> list[ft.Control]:
    """Where, what state, when, what to do and who lives there."""
    controls = [heading(vm.address, size=18, identifier="assignment-address"), _marks(vm)]
    if vm.control:
        control = info_row(ft.Icons.SHIELD, vm.control, colour=theme.WARN)
        controls.append(ft.Semantics(identifier="household-control", content=control))
    if vm.due_label:
        controls.append(info_row(ft.Icons.EVENT, tr("ui.field.home.due", time=vm.due_label)))
    if vm.revisit_label:
        revisit = info_row(ft.Icons.SCHEDULE, vm.revisit_label, colour=theme.WARN)
        controls.append(ft.Semantics(identifier="revisit-due", content=revisit))
    controls.append(heading(tr("ui.field.visit.todo")))
    controls.append(ft.Text(vm.title, size=15, weight=ft.FontWeight.W_600))
    if vm.instructions:
        controls.append(ft.Text(vm.instructions, size=14))
    controls.append(heading(tr("ui.field.visit.residents")))
    controls += [_resident(r) for r in vm.residents] or [muted(tr("ui.field.visit.no_residents"))]
    return controls


def _history(vm: AssignmentViewModel) -> list[ft.Control]:
    controls: list[ft.Control] = [heading(tr("ui.field.visit.history"))]
    if vm.conflict:
        controls.append(
            ft.Semantics(
                identifier="visit-conflict",
                content=ft.Row(
                    [
                        ft.Icon(ft.Icons.WARNING_AMBER, size=18, color=theme.WARN),
                        ft.Text(vm.conflict, size=13, expand=True),
                    ],
                    vertical_alignment=ft.CrossAxisAlignment.START,
                ),
            )
        )
    if not vm.visits:
        controls.append(muted(tr("ui.field.visit.no_visits")))
    for v in vm.visits:
        colour = OUTCOME_STYLE.get(v.outcome, (theme.MUTED, ft.Icons.CIRCLE))[0]
        line = f"{v.at_label} · {v.member}"
        top: list[ft.Control] = [chip(v.outcome_label, colour), muted(line, size=13)]
        if v.unsent:
            top.append(flag(tr("ui.field.unsent"), theme.WARN, ft.Icons.CLOUD_UPLOAD))
        rows: list[ft.Control] = [ft.Row(top, wrap=True)]
        if v.result_label:
            rows.append(ft.Text(v.result_label, size=13))
        if v.note:
            rows.append(ft.Text(v.note, size=13))
        controls.append(
            ft.Semantics(identifier=f"visit-{v.id}", content=ft.Column(rows, spacing=2))
        )
    return controls


class _VisitForm:
    """The result fields, the note and the one-tap outcome buttons (kept across renders, so
    what is typed survives a change of the view-model)."""

    def __init__(self, vm: AssignmentViewModel) -> None:
        self.vm = vm
        self.note = text_area(tr("ui.field.visit.note"), lambda text: setattr(vm, "note", text))
        self.buttons = [
            touch_button(
                text,
                tap(self.record, outcome),
                icon=OUTCOME_STYLE[outcome][1],
                colour=OUTCOME_STYLE[outcome][0],
                expand=True,
            )
            for outcome, text in vm.outcomes
        ]
        self.outcomes = ft.ResponsiveRow(
            [ft.Container(b, col={"xs": 6}) for b in self.buttons], spacing=8, run_spacing=8
        )
        self.results = ft.Column(spacing=8, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
        self.fields_shown: object = None

    def record(self, outcome: str) -> None:
        self.vm.note = self.note.value or ""
        self.vm.record(outcome)

    def render(self) -> list[ft.Control]:
        vm = self.vm
        self.note.value = vm.note
        for button in self.buttons:
            button.disabled = vm.busy
        if self.fields_shown is not vm.fields or not self.results.controls:
            self.fields_shown = vm.fields
            self.results.controls = [_result_input(vm, f) for f in vm.fields]
        if not vm.can_record:
            return [muted(tr("ui.field.visit.not_yours"), size=13)]
        return [
            heading(tr("ui.field.visit.result")),
            self.results,
            self.note,
            heading(tr("ui.field.visit.outcome")),
            self.outcomes,
        ]


def assignment_screen(ctx: UiContext, params: dict[str, str]) -> Screen:
    vm = AssignmentViewModel(ctx.device, ctx.nav, params["id"], ctx.sync)
    form = _VisitForm(vm)
    body = ft.ListView(expand=True, spacing=10, padding=ft.Padding.only(top=8, bottom=32))
    request_button = touch_button(
        tr("ui.field.visit.log_request"),
        lambda _: vm.log_request(),
        icon=ft.Icons.SUPPORT_AGENT,
        primary=False,
        expand=True,
    )

    def render() -> None:
        if not vm.found:
            body.controls = [empty_state(tr("ui.field.visit.missing"))]
            return
        controls: list[ft.Control] = []
        if vm.rejection is not None:
            controls.append(rejection_banner(vm.rejection.text, lambda _: vm.dismiss_rejection()))
        controls += [*_task(vm), *form.render()]
        if vm.error:
            controls.append(ft.Text(vm.error, color=theme.DANGER))
        if vm.saved:
            saved = info_row(ft.Icons.CHECK, vm.saved, colour=theme.OK)
            controls.append(ft.Semantics(identifier="visit-saved", content=saved))
        if vm.household_id:
            controls.append(ft.Row([request_button]))
        body.controls = controls + _history(vm)

    route = f"/assignment/{params['id']}"
    return vm_screen(ctx, vm, render, route, tr("ui.field.visit.title"), body)
