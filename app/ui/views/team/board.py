"""``/team`` (the board), ``/team/member/{member_id}`` and the reassign screens."""

from __future__ import annotations

from collections.abc import Callable

import flet as ft

from app.i18n import tr
from app.ui import theme
from app.ui.context import UiContext
from app.ui.panels import card, heading, list_tile, muted, scrolling
from app.ui.router import Screen
from app.ui.views.team.parts import overdue_chip, progress_bar, progress_chips, tappable
from app.ui.widgets import chip, empty_state, leads_only, tap, touch_button, vm_screen
from app.viewmodels.team import (
    AssignmentRow,
    MemberChoice,
    MemberListViewModel,
    MemberRow,
    ReassignViewModel,
    TeamBoardViewModel,
)
from sync.domain.machines import ASSIGNMENT_MACHINE


def _member_card(vm: TeamBoardViewModel, row: MemberRow) -> ft.Control:
    name = tr("ui.team.me", name=row.name) if row.is_me else row.name
    title = ft.Row(
        [
            ft.Text(name, weight=ft.FontWeight.W_600, size=16, expand=True),
            muted(row.role),
            ft.Icon(ft.Icons.CHEVRON_RIGHT, color=theme.MUTED),
        ],
        spacing=6,
    )
    lines: list[ft.Control] = [title, progress_chips(row.progress), progress_bar(row.progress)]
    if row.phone_label:
        colour = theme.WARN if row.unsent else theme.MUTED
        lines.append(
            ft.Semantics(
                identifier=f"member-phone-{row.member_id}",
                content=ft.Text(row.phone_label, size=13, color=colour),
            )
        )
    content = ft.Column(lines, spacing=6, tight=True)
    return tappable(
        content,
        lambda _: vm.open_member(row.member_id),
        identifier=f"member-{row.member_id}",
    )


def _requests_card(vm: TeamBoardViewModel) -> ft.Control:
    """The team's open requests (and how many are urgent); tapping opens the queue."""
    counts = ft.Column(
        [
            ft.Text(tr("ui.team.open_requests", n=vm.open_requests), weight=ft.FontWeight.W_600),
            muted(tr("ui.team.urgent_requests", n=vm.urgent_requests)),
        ],
        spacing=2,
        tight=True,
        expand=True,
    )
    row = ft.Row(
        [
            ft.Icon(ft.Icons.SUPPORT_AGENT, color=theme.PRIMARY),
            counts,
            ft.Icon(ft.Icons.CHEVRON_RIGHT, color=theme.MUTED),
        ]
    )
    return tappable(row, lambda _: vm.open_requests_list(), identifier="team-open-requests")


def _shift_buttons(vm: TeamBoardViewModel) -> ft.Control:
    """Handover notes and the end-of-shift summary."""

    def button(text: str, go: Callable[[], None], icon: ft.IconData) -> ft.Control:
        return touch_button(text, lambda _: go(), icon=icon, primary=False, expand=True)

    return ft.Row(
        [
            button(tr("ui.team.handover"), vm.open_handover, ft.Icons.SWAP_HORIZ),
            button(tr("ui.team.summary"), vm.open_summary, ft.Icons.FACT_CHECK),
        ],
        spacing=8,
    )


def board_screen(ctx: UiContext, params: dict[str, str]) -> Screen:
    vm = TeamBoardViewModel(ctx.device, ctx.nav)
    body = scrolling([])

    def render() -> None:
        if not vm.allowed:
            body.controls = [leads_only()]
            return
        t = vm.totals
        totals = card(
            [
                ft.Text(vm.team_name, size=18, weight=ft.FontWeight.W_600),
                muted(tr("ui.team.totals", done=t.done, total=t.total)),
                progress_bar(t),
                progress_chips(t, prefix="team"),
            ],
            identifier="team-totals",
        )
        members = [_member_card(vm, r) for r in vm.rows]
        body.controls = [
            totals,
            _requests_card(vm),
            _shift_buttons(vm),
            heading(tr("ui.team.members", n=len(vm.rows))),
            *(members or [empty_state(tr("ui.team.no_members"))]),
        ]

    return vm_screen(ctx, vm, render, "/team", tr("ui.team.title"), body, tab="/team")


def assignment_card(
    row: AssignmentRow, vm: MemberListViewModel, *, can_reassign: bool
) -> ft.Control:
    colour = theme.STATUS_COLOURS.get(row.status, theme.MUTED)
    tags: list[ft.Control] = [chip(row.status_label, colour, identifier=f"status-{row.id}")]
    if row.overdue:
        tags.append(overdue_chip())
    what = f"{row.type} · {row.title}" if row.title else row.type
    lines: list[ft.Control] = [
        ft.Row(tags, wrap=True, spacing=6, run_spacing=6),
        ft.Text(what, weight=ft.FontWeight.W_600),
    ]
    if row.place:
        lines.append(ft.Text(row.place))
    if row.due:
        lines.append(muted(tr("ui.team.due", due=row.due)))
    buttons: list[ft.Control] = [
        touch_button(tr("ui.team.details"), lambda _: vm.open(row.id), primary=False, expand=True)
    ]
    if can_reassign:
        buttons.append(
            touch_button(
                tr("ui.team.reassign"),
                lambda _: vm.reassign(row.id),
                icon=ft.Icons.PERSON_ADD_ALT,
                expand=True,
            )
        )
    lines.append(ft.Row(buttons, spacing=8))
    return card(lines, identifier=f"assignment-{row.id}")


def member_screen(ctx: UiContext, params: dict[str, str]) -> Screen:
    member_id = params["member_id"]
    vm = MemberListViewModel(ctx.device, ctx.nav, member_id)
    body = scrolling([])
    route = f"/team/member/{member_id}"

    def render() -> None:
        if not vm.allowed:
            body.controls = [leads_only()]
            return
        rows = [
            assignment_card(r, vm, can_reassign=not ASSIGNMENT_MACHINE.is_final(r.status))
            for r in vm.rows
        ]
        body.controls = [
            card([progress_chips(vm.progress, prefix="member"), progress_bar(vm.progress)]),
            *(rows or [empty_state(tr("ui.team.no_assignments"))]),
        ]

    return vm_screen(ctx, vm, render, route, vm.name, body)


def _reassigned(a: AssignmentRow) -> ft.Control:
    """The task being handed over: status, what, where, who has it now."""
    what = f"{a.type} · {a.title}" if a.title else a.type
    tags: list[ft.Control] = [chip(a.status_label, theme.STATUS_COLOURS.get(a.status, theme.MUTED))]
    if a.overdue:
        tags.append(overdue_chip())
    return card(
        [
            ft.Row(tags, wrap=True, spacing=6),
            ft.Text(what, weight=ft.FontWeight.W_600),
            ft.Text(a.place),
            muted(tr("ui.team.assignee_now", name=a.assignee)),
        ]
    )


def _choice(vm: ReassignViewModel, c: MemberChoice) -> ft.Control:
    """A member to hand the task to, with their open load (the current one greyed out)."""
    name = tr("ui.team.current", name=c.name) if c.current else c.name
    icon = ft.Icon(
        ft.Icons.CHECK_CIRCLE if c.current else ft.Icons.PERSON_OUTLINE,
        color=theme.OK if c.current else theme.MUTED,
    )
    return list_tile(
        f"reassign-to-{c.member_id}",
        icon=icon,
        title=name,
        subtitle=tr("ui.team.choice_load", role=c.role, n=c.open_count),
        on_click=tap(vm.reassign, c.member_id),
        disabled=c.current or vm.busy,
    )


def reassign_screen(ctx: UiContext, params: dict[str, str]) -> Screen:
    vm = ReassignViewModel(ctx.device, ctx.nav, params["id"])
    body = scrolling([])
    route = (
        f"/team/member/{params['member_id']}/reassign/{params['id']}"
        if "member_id" in params
        else f"/team/reassign/{params['id']}"
    )

    def render() -> None:
        if not vm.allowed:
            body.controls = [leads_only()]
            return
        a = vm.assignment
        items: list[ft.Control] = [] if a is None else [_reassigned(a)]
        if vm.blocked:
            items.append(ft.Text(vm.blocked, color=theme.WARN))
        if vm.error:
            items.append(ft.Text(vm.error, color=theme.DANGER))
        if a is not None and not vm.blocked:
            items.append(heading(tr("ui.team.reassign_to")))
            items += [_choice(vm, c) for c in vm.choices]
        body.controls = items

    return vm_screen(ctx, vm, render, route, tr("ui.team.reassign_title"), body)
