"""``/home`` — my shift: counts, search and filters, then today's assignments by building and
unit with the coverage of each building."""

from __future__ import annotations

from typing import Any

import flet as ft

from app.i18n import tr
from app.ui import theme
from app.ui.context import UiContext
from app.ui.router import Screen
from app.ui.views.field.parts import (
    HIGH_PRIORITIES,
    LINE,
    card,
    filter_picker,
    flag,
    key_care_flag,
    marks_row,
    muted,
    overdue_flag,
    rejected_flag,
    wide,
)
from app.ui.widgets import chip, empty_state, tap, vm_screen
from app.viewmodels.shift import MINE, TEAM, AssignmentRow, BuildingGroup, ShiftViewModel


def _count(key: str, value: int, colour: str, identifier: str) -> tuple[ft.Control, ft.Text]:
    number = ft.Text(str(value), size=22, weight=ft.FontWeight.BOLD, color=colour)
    box = ft.Container(
        ft.Column(
            [
                ft.Semantics(content=number, identifier=identifier),
                ft.Text(tr(key), size=12, color=theme.MUTED),
            ],
            spacing=0,
            horizontal_alignment=ft.CrossAxisAlignment.CENTER,
        ),
        expand=True,
        padding=ft.Padding.symmetric(vertical=6),
        border=ft.Border.all(1, LINE),
        border_radius=8,
        bgcolor=ft.Colors.WHITE,
    )
    return box, number


def _row(vm: ShiftViewModel, row: AssignmentRow) -> ft.Control:
    colour = theme.STATUS_COLOURS.get(row.status, theme.MUTED)
    marks: list[ft.Control] = []
    if row.overdue:
        marks.append(overdue_flag())
    if row.key_care:
        marks.append(key_care_flag())
    if row.priority in HIGH_PRIORITIES:
        marks.append(flag(row.priority_label, theme.WARN, ft.Icons.PRIORITY_HIGH))
    if row.rejected:
        marks.append(rejected_flag())
    when = tr("ui.field.home.due", time=row.due_label) if row.due_label else ""
    details = " · ".join(p for p in (row.type_label, when, row.revisit_label) if p)
    lines: list[ft.Control] = [
        ft.Row(
            [
                ft.Text(row.address, weight=ft.FontWeight.W_600, expand=True, size=15),
                chip(row.status_label, colour, identifier=f"assignment-status-{row.id}"),
            ],
            vertical_alignment=ft.CrossAxisAlignment.START,
        ),
        muted(details, size=13),
    ]
    if row.assignee:
        lines.append(muted(tr("ui.field.home.assignee", name=row.assignee)))
    if marks:
        lines.append(marks_row(marks))
    accent = theme.DANGER if row.overdue else (theme.PRIMARY if row.key_care else None)
    return card(lines, tap(vm.open, row.id), identifier=f"assignment-{row.id}", accent=accent)


def _building(group: BuildingGroup) -> ft.Control:
    fraction = group.visited / group.assigned if group.assigned else 0.0
    return ft.Container(
        ft.Column(
            [
                ft.Row(
                    [
                        ft.Text(group.name, size=16, weight=ft.FontWeight.BOLD, expand=True),
                        ft.Semantics(
                            content=ft.Text(group.coverage_text, size=12, color=theme.MUTED),
                            identifier=f"coverage-{group.name}",
                        ),
                    ]
                ),
                ft.ProgressBar(value=fraction, color=theme.OK, bgcolor=LINE),
            ],
            spacing=4,
        ),
        padding=ft.Padding.only(top=12, bottom=4),
    )


def _filter_panel(vm: ShiftViewModel) -> ft.Column:
    """Type, status and priority filters (hidden until "Filter" is tapped)."""

    def by(field: str, label: str, identifier: str) -> ft.Control:
        options = vm.filter_options(field)
        return filter_picker(label, identifier, options, None, lambda v: vm.set_filter(field, v))

    status = by("status", tr("ui.field.home.filter_status"), "filter-status")
    priority = by("priority", tr("ui.field.home.filter_priority"), "filter-priority")
    return ft.Column(
        [
            wide(by("type", tr("ui.field.home.filter_type"), "filter-type")),
            ft.Row([status, priority], spacing=6),
        ],
        visible=False,
        spacing=8,
    )


def _search_row(ctx: UiContext, vm: ShiftViewModel) -> list[ft.Control]:
    """The search field and the "Filter" button, then the filter panel it opens."""
    search = ft.TextField(
        label=tr("ui.field.home.search"),
        prefix_icon=ft.Icons.SEARCH,
        dense=True,
        expand=True,
        on_change=lambda e: vm.set_query(e.control.value or ""),
    )
    panel = _filter_panel(vm)

    def toggle_filters(_: Any) -> None:
        panel.visible = not panel.visible
        ctx.page.update()

    filter_button = ft.OutlinedButton(
        content=tr("ui.field.home.filters"),
        icon=ft.Icons.FILTER_LIST,
        on_click=toggle_filters,
        height=theme.TOUCH,
    )
    return [ft.Row([search, filter_button], spacing=6), panel]


def _scope(vm: ShiftViewModel) -> ft.Control:
    """Mine / the whole team (for leads)."""
    return ft.SegmentedButton(
        segments=[
            ft.Segment(value=MINE, label=tr("ui.field.home.mine")),
            ft.Segment(value=TEAM, label=tr("ui.field.home.team")),
        ],
        selected=[MINE],
        on_change=lambda e: vm.set_scope((e.control.selected or [MINE])[0]),
    )


def _doors(vm: ShiftViewModel) -> list[ft.Control]:
    """The shown assignments by building and unit, each building with its coverage."""
    body: list[ft.Control] = []
    for group in vm.groups:
        body.append(_building(group))
        for unit in group.units:
            body.append(muted(unit.name, size=13))
            body.extend(_row(vm, row) for row in unit.rows)
    return body or [empty_state(vm.empty_text)]


def home_screen(ctx: UiContext, params: dict[str, str]) -> Screen:
    vm = ShiftViewModel(ctx.device, ctx.nav, ctx.sync)
    boxes = [
        _count("ui.field.home.count_todo", 0, theme.INFO, "count-todo"),
        _count("ui.field.home.count_revisit", 0, theme.WARN, "count-revisit"),
        _count("ui.field.home.count_done", 0, theme.OK, "count-done"),
        _count("ui.field.home.count_overdue", 0, theme.DANGER, "count-overdue"),
    ]
    summary = muted("")
    header: list[ft.Control] = [ft.Container(height=4), ft.Row([b for b, _ in boxes], spacing=6)]
    if vm.can_see_team:
        header.append(_scope(vm))
    header += [*_search_row(ctx, vm), ft.Semantics(content=summary, identifier="home-shown")]
    header_box = ft.Column(header, spacing=6)
    # The header scrolls away with the list, so a 640-px-high phone still shows several doors.
    items = ft.ListView(expand=True, spacing=0, padding=ft.Padding.only(bottom=24))

    def render() -> None:
        c = vm.counts
        for (_, number), value in zip(boxes, (c.todo, c.revisit, c.done, c.overdue), strict=True):
            number.value = str(value)
        summary.value = tr("ui.field.home.shown", n=vm.shown)
        items.controls = [header_box, *_doors(vm)]

    return vm_screen(ctx, vm, render, "/home", tr("ui.field.home.title"), items, tab="/home")
