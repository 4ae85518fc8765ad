"""``/notices`` (newest first, unread marked), ``/notice/{id}`` and ``/contacts``."""

from __future__ import annotations

import flet as ft

from app.i18n import tr
from app.ui import theme
from app.ui.context import UiContext
from app.ui.router import Screen
from app.ui.views.field.parts import call_button, card, flag, heading, list_page, muted
from app.ui.widgets import empty_state, scaffold, touch_button, vm_screen
from app.viewmodels.notices import (
    ContactsViewModel,
    NoticeRow,
    NoticesViewModel,
    NoticeViewModel,
)

KIND_STYLE: dict[str, tuple[str, ft.IconData]] = {
    "daily": (theme.INFO, ft.Icons.TODAY),
    "policy": (theme.OK, ft.Icons.GAVEL),
    "rumour_rebuttal": (theme.DANGER, ft.Icons.REPORT),
}


def _kind_flag(kind: str, text: str) -> ft.Control:
    colour, icon = KIND_STYLE.get(kind, (theme.MUTED, ft.Icons.CAMPAIGN))
    return flag(text, colour, icon)


def _notice_row(vm: NoticesViewModel, row: NoticeRow) -> ft.Control:
    title = ft.Text(
        row.title,
        size=15,
        weight=ft.FontWeight.BOLD if row.unread else ft.FontWeight.NORMAL,
        expand=True,
    )
    top: list[ft.Control] = []
    if row.unread:
        unread = tr("ui.field.notices.unread")
        identifier = f"notice-unread-{row.id}"
        top.append(flag(unread, theme.PRIMARY, ft.Icons.CIRCLE, identifier=identifier))
    top += [_kind_flag(row.kind, row.kind_label), muted(row.published_label)]
    if row.edited_label:
        top.append(muted(row.edited_label))
    return card(
        [ft.Row(top, wrap=True, spacing=6, run_spacing=4), title, muted(row.excerpt, size=13)],
        lambda _: vm.open(row.id),
        identifier=f"notice-{row.id}",
        accent=theme.PRIMARY if row.unread else None,
    )


def notices_screen(ctx: UiContext, params: dict[str, str]) -> Screen:
    vm = NoticesViewModel(ctx.device, ctx.nav)
    unread = muted("", size=13)
    items = ft.ListView(expand=True, padding=ft.Padding.only(bottom=24))
    contacts = ft.Row([])

    def render() -> None:
        entry = tr("ui.field.notices.contacts_count", n=vm.contacts_count)
        contacts.controls = [
            ft.Semantics(
                content=touch_button(
                    entry,
                    lambda _: vm.contacts(),
                    icon=ft.Icons.CONTACT_PHONE,
                    primary=False,
                    expand=True,
                ),
                identifier="notices-contacts",
                expand=True,
            )
        ]
        unread.value = tr("ui.field.notices.unread_count", n=vm.unread)
        items.controls = [_notice_row(vm, r) for r in vm.rows] or [
            empty_state(tr("ui.field.notices.empty"))
        ]

    body = list_page(4, contacts, unread, "notices-unread", items)
    title = tr("ui.field.notices.title")
    return vm_screen(ctx, vm, render, "/notices", title, body, tab="/notices")


def notice_screen(ctx: UiContext, params: dict[str, str]) -> Screen:
    vm = NoticeViewModel(ctx.device, ctx.nav, params["id"])
    if vm.found:
        top = [_kind_flag(vm.kind, vm.kind_label), muted(vm.published_label)]
        if vm.edited_label:
            top.append(muted(vm.edited_label))
        controls: list[ft.Control] = [ft.Row(top, wrap=True)]
        if vm.gone:
            gone = flag(vm.gone_text, theme.DANGER, ft.Icons.BLOCK, identifier="notice-gone")
            controls.append(gone)
        controls += [
            heading(vm.title, size=18, identifier="notice-title"),
            ft.Text(vm.body, size=15, selectable=True),
        ]
    else:
        controls = [empty_state(tr("ui.field.notice.missing"))]
    body = ft.ListView(
        controls, expand=True, spacing=12, padding=ft.Padding.only(top=12, bottom=24)
    )
    return scaffold(ctx, f"/notice/{params['id']}", tr("ui.field.notice.title"), body)


def contacts_screen(ctx: UiContext, params: dict[str, str]) -> Screen:
    vm = ContactsViewModel(ctx.device, ctx.nav)
    items = ft.ListView(expand=True, padding=ft.Padding.only(top=8, bottom=24))

    def render() -> None:
        rows: list[ft.Control] = []
        for c in vm.rows:
            lines: list[ft.Control] = [
                ft.Text(c.name or c.label, size=15, weight=ft.FontWeight.W_600)
            ]
            about = [part for part in (c.kind_label, c.label if c.name else "", c.team) if part]
            if about:
                lines.append(muted(" · ".join(dict.fromkeys(about))))
            if c.note:
                lines.append(muted(c.note, size=13))
            lines.append(call_button(c.phone, c.tel_url))
            rows.append(card(lines, None, identifier=f"contact-{c.id}"))
        items.controls = rows or [empty_state(tr("ui.field.contacts.empty"))]

    return vm_screen(ctx, vm, render, "/contacts", tr("ui.field.contacts.title"), items)
