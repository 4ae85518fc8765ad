"""``/sync``: the sync state, "Sync now", the last summary, rejected changes and the server's
receipts."""

from __future__ import annotations

import flet as ft

from app.i18n import tr
from app.ui import theme
from app.ui.context import UiContext
from app.ui.panels import card, heading, muted, scrolling
from app.ui.router import Screen
from app.ui.widgets import SyncNow, bind, online_colour, scaffold
from app.viewmodels.sync_screen import ReceiptRow, RejectionRow, SyncScreenViewModel


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
        lines.append(muted(row.at, size=12))
    return card(lines, identifier=f"rejection-{row.op_id}")


def _receipt(row: ReceiptRow) -> ft.Control:
    return card(
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
            muted(tr("ui.syncpage.receipt_batch", batch=row.batch), size=12),
            muted(tr("ui.syncpage.receipt_sig", sig=row.signature), size=12),
        ],
        identifier=f"receipt-{row.batch}",
    )


def _details(vm: SyncScreenViewModel) -> list[ft.Control]:
    """The last summary, then every rejected change and every receipt on this phone."""
    items: list[ft.Control] = [heading(tr("ui.syncpage.last_summary"), below=2)]
    summary = vm.summary
    if summary is None:
        items.append(muted(tr("ui.syncpage.no_summary")))
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
        lines += [ft.Text(note) for note in summary.notes]
        items.append(card(lines, identifier="syncpage-summary"))
        items += [_rejection(r) for r in summary.rejected]
        items += [_receipt(r) for r in summary.receipts]
    waiting = vm.waiting_update
    if waiting:
        items.append(
            ft.Semantics(identifier="syncpage-deferred", content=ft.Text(waiting, color=theme.WARN))
        )
    items.append(heading(tr("ui.syncpage.rejections", n=len(vm.rejections)), below=2))
    items.append(muted(tr("ui.syncpage.rejections_help")))
    items += [_rejection(r) for r in vm.rejections]
    items.append(heading(tr("ui.syncpage.receipts", n=len(vm.receipts)), below=2))
    items.append(muted(tr("ui.syncpage.receipts_help")))
    items += [_receipt(r) for r in vm.receipts]
    items.append(ft.Container(height=16))
    return items


def sync_screen(ctx: UiContext, params: dict[str, str]) -> Screen:
    vm = SyncScreenViewModel(ctx.sync, ctx.nav)
    dot = ft.Container(width=12, height=12, border_radius=6)
    state = ft.Text(weight=ft.FontWeight.W_600, size=16)
    pending = ft.Text()
    last = ft.Text()
    sync_now = SyncNow(
        tr("ui.syncpage.sync_now"), lambda: ctx.run_background(vm.sync_now), note_id="syncpage-note"
    )
    status = card(
        [
            ft.Row([dot, ft.Semantics(identifier="syncpage-state", content=state)], spacing=8),
            ft.Semantics(identifier="syncpage-pending", content=pending),
            ft.Semantics(identifier="syncpage-last", content=last),
        ]
    )
    details = scrolling([])

    def render() -> None:
        s = vm.status
        dot.bgcolor = online_colour(s.online)
        state.value = vm.state_text
        pending.value = tr("ui.syncpage.pending", n=s.pending)
        last.value = tr("ui.syncpage.last", time=vm.last_sync)
        sync_now.render(syncing=s.syncing, progress=s.progress, error=vm.error, message=vm.message)
        details.controls = _details(vm)

    unsubscribe = bind(ctx, vm, render)
    header = ft.Column([status, sync_now.view], spacing=8)
    content = ft.Column([header, details], expand=True, spacing=8)
    return scaffold(
        ctx, "/sync", tr("ui.syncpage.title"), content, cleanups=[unsubscribe, vm.close]
    )
