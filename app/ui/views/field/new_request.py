"""``/requests/new`` and ``/assignment/{id}/request``: the new-request form (household,
category, urgency, description, contact)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flet as ft

from app.i18n import tr
from app.ui import theme
from app.ui.context import UiContext
from app.ui.router import Screen
from app.ui.views.field.parts import card, heading, muted, named, picker, text_area, wide
from app.ui.widgets import bind, scaffold, tap, touch_button
from app.viewmodels.request_form import HouseholdOption, NewRequestViewModel, household_of


def _match(vm: NewRequestViewModel, m: HouseholdOption) -> ft.Control:
    lines: list[ft.Control] = [
        ft.Text(m.address, size=14),
        *([muted(m.people)] if m.people else []),
    ]
    return card(lines, tap(vm.choose_household, m.id), identifier=f"household-{m.id}", spacing=0)


def _household(vm: NewRequestViewModel) -> tuple[list[ft.Control], Callable[[], None]]:
    """The chosen household (with "change"), or the search and its matches; and their render."""
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
    error = ft.Text(color=theme.DANGER, size=12, visible=False)

    def render() -> None:
        chosen.value = vm.household_text
        chosen_row.visible = not vm.picking
        search.visible = vm.picking
        if not vm.query:
            search.value = ""
        matches.controls = [_match(vm, m) for m in vm.matches]
        if vm.query.strip() and not vm.matches:
            matches.controls = [muted(tr("ui.field.new.no_household"))]
        error.value = vm.errors.get("household", "")
        error.visible = "household" in vm.errors

    return [chosen_row, search, matches, error], render


def _urgency(vm: NewRequestViewModel) -> ft.RadioGroup:
    return ft.RadioGroup(
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


def _new_request(ctx: UiContext, route: str, household_id: str | None) -> Screen:
    vm = NewRequestViewModel(ctx.device, ctx.nav, household_id)
    household, render_household = _household(vm)
    category = picker(tr("ui.field.new.category"), vm.category_options(), None, vm.set_category)
    urgency = _urgency(vm)
    urgency_hint = ft.Text(size=12, color=theme.WARN)
    description = text_area(
        tr("ui.field.new.description"),
        lambda text: setattr(vm, "description", text),
        min_lines=2,
        max_lines=5,
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
        render_household()
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
            *household,
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
