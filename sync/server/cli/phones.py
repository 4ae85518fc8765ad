"""``enroll``, ``retire``, ``revoke`` and ``devices``: the phones that may sync.

``retire`` is for a phone handed back (its next sync is processed as usual, then it wipes once
nothing is left to send); ``revoke`` for a lost or stolen one (what it still sends goes to the
review queue, not into the data, and it wipes). See :mod:`sync.server.devices`."""

from __future__ import annotations

from datetime import tzinfo
from pathlib import Path
from typing import Any

import click

from sync.domain.enums import ROLES
from sync.i18n import t
from sync.protocol import now_ms
from sync.server import admin, devices, enrollment, localtime, logs
from sync.server.cli.base import global_options, runtime, say, text, zone
from sync.server.cli.table import echo_json, render
from sync.server.names import Directory


def register(group: click.Group, lang: str) -> None:
    def h(key: str) -> str:
        return t(f"server.cli.help.{key}", lang)

    @group.command("enroll", help=h("enroll"), short_help=h("enroll_short"))
    @click.option("--member", help=h("member"))
    @click.option("--name", help=h("name"))
    @click.option("--role", type=click.Choice(ROLES), help=h("role"))
    @click.option("--team", help=h("team"))
    @click.option("--phone", help=h("phone"))
    @click.option("--expires", default="24h", help=h("expires"))
    @click.option("--qr", type=click.Path(dir_okay=False, path_type=Path), help=h("qr"))
    @click.option("--url", help=h("url"))
    @click.option("--no-terminal-qr", is_flag=True, help=h("no_terminal_qr"))
    @global_options(lang)
    @click.pass_context
    def enroll(
        ctx: click.Context,
        member: str | None,
        name: str | None,
        role: str | None,
        team: str | None,
        phone: str | None,
        expires: str,
        qr: Path | None,
        url: str | None,
        no_terminal_qr: bool,
    ) -> None:
        if member is None and not (name and role):
            say(ctx, "enroll_needs_member")
            ctx.exit(2)
        rt = runtime(ctx)
        names = Directory(rt)
        if member is not None:
            member_id = names.member(member)
        else:
            team_id = names.team(team) if team else None
            member_id = admin.create_member(
                rt, name=str(name), role=str(role), team_id=team_id, phone=phone
            )
        issued = enrollment.issue(rt, member_id, enrollment.parse_duration(expires))
        url = url or rt.settings.public_url
        content = enrollment.qr_content(url, issued.code)
        until = f"{localtime.show(issued.expires_at, zone(ctx))} ({rt.settings.timezone})"
        say(ctx, "enroll_code", code=issued.code, member=member_id, expires=until, url=url)
        import segno

        image = segno.make(content, error="m")
        if qr:
            image.save(str(qr), scale=8)
            say(ctx, "enroll_qr_saved", path=str(qr))
        if not no_terminal_qr:
            image.terminal(compact=True)

    @group.command(
        "revoke", help=f"{h('revoke')}\n\nDEVICE: {h('device')}", short_help=h("revoke_short")
    )
    @click.argument("device", metavar="DEVICE")
    @global_options(lang)
    @click.pass_context
    def revoke(ctx: click.Context, device: str) -> None:
        rt = runtime(ctx)
        device = Directory(rt).device(device)
        with rt.db.write() as conn:
            done = devices.revoke(conn, device, now_ms())
        logs.event("revoke", device=device, done=done)
        say(ctx, "revoked" if done else "revoke_unknown", device=device)
        if not done:
            ctx.exit(1)

    @group.command(
        "retire", help=f"{h('retire')}\n\nDEVICE: {h('device')}", short_help=h("retire_short")
    )
    @click.argument("device", metavar="DEVICE")
    @global_options(lang)
    @click.pass_context
    def retire(ctx: click.Context, device: str) -> None:
        rt = runtime(ctx)
        device = Directory(rt).device(device)
        with rt.db.write() as conn:
            done = devices.retire(conn, device, now_ms())
        logs.event("retire", device=device, done=done)
        say(ctx, "retired" if done else "retire_unknown", device=device)
        if not done:
            ctx.exit(1)

    @group.command("devices", help=h("devices"), short_help=h("devices"))
    @click.option("--json", "as_json", is_flag=True, help=h("json"))
    @global_options(lang)
    @click.pass_context
    def device_list(ctx: click.Context, as_json: bool) -> None:
        rt = runtime(ctx)
        with rt.db.read() as conn:
            rows = devices.listing(conn, rt.vault)
        if as_json:
            echo_json(rows)
            return
        names, where = Directory(rt), zone(ctx)
        header = [
            text(ctx, f"col.{c}")
            for c in ("device", "label", "role", "team", "last", "app", "pending", "status")
        ]
        table = [
            [
                r["device_id"],
                r["label"] or "-",
                r["role"],
                names.name("team", r["team_id"]) or "-",
                localtime.show(r["last_sync_at"], where) or text(ctx, "never"),
                _build(r),
                "-" if r["pending"] is None else str(r["pending"]),
                _status(ctx, r, where),
            ]
            for r in rows
        ]
        click.echo(render(header, table))
        say(ctx, "devices_total", count=len(rows))


def _build(row: dict[str, Any]) -> str:
    """The app build a phone last reported, with its domain schema: ``0.9.0 (2)``."""
    if row["app_version"] is None:
        return "-"
    return f"{row['app_version']} ({row['schema_version']})"


def _status(ctx: click.Context, row: dict[str, Any], where: tzinfo) -> str:
    """``active``, or ``retired``/``revoked`` with when (local time)."""
    status = str(row["status"])
    if status == devices.ACTIVE:
        return text(ctx, "active_flag")
    since = row["revoked_at"] if status == devices.REVOKED else row["retired_at"]
    return text(ctx, f"{status}_since", when=localtime.show(since, where))
