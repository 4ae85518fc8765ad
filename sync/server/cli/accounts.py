"""``user add|list|disable|enable|reset|totp`` and ``audit list|verify``: the command centre's
accounts and its audit log, through the same services the console uses
(:mod:`sync.server.accounts`, :mod:`sync.server.audit`).

Passwords never go on the command line: ``--password-stdin`` reads one, otherwise a one-time
password is generated and printed once. Scopes are place ids or paths (:mod:`sync.server.names`).
Changes made here are audited as done by ``cli``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from sync.i18n import t
from sync.protocol import now_ms
from sync.server import audit, localtime
from sync.server.accounts import ROLES, users
from sync.server.cli.base import Group, global_options, runtime, say, text, zone
from sync.server.cli.table import echo_json, render
from sync.server.names import Directory

CLI_ACTOR = "cli"


def _password(password_stdin: bool) -> str | None:
    if not password_stdin:
        return None
    return sys.stdin.readline().rstrip("\r\n")


def register(group: click.Group, lang: str) -> None:
    def h(key: str) -> str:
        return t(f"server.cli.help.{key}", lang)

    @group.group("user", cls=Group, help=h("user"), short_help=h("user_short"))
    def user() -> None:
        pass

    @user.command("add", help=h("user_add"), short_help=h("user_add"))
    @click.argument("name", metavar="NAME")
    @click.option("--role", type=click.Choice(ROLES), required=True, help=h("user_role"))
    @click.option("--scope", "scope", multiple=True, help=h("user_scope"))
    @click.option("--password-stdin", is_flag=True, help=h("user_password_stdin"))
    @global_options(lang)
    @click.pass_context
    def user_add(
        ctx: click.Context, name: str, role: str, scope: tuple[str, ...], password_stdin: bool
    ) -> None:
        rt = runtime(ctx)
        names = Directory(rt)
        places = [names.place(p) for p in scope]
        account, generated = users.add(
            rt, name, role, places, password=_password(password_stdin), by=CLI_ACTOR, now=now_ms()
        )
        shown = ", ".join(names.place_path(p) for p in account.scope) or text(ctx, "user.whole")
        say(ctx, "user.added", name=account.name, role=account.role, scope=shown)
        if generated:
            say(ctx, "user.one_time", password=generated)

    @user.command("list", help=h("user_list"), short_help=h("user_list"))
    @click.option("--json", "as_json", is_flag=True, help=h("json"))
    @global_options(lang)
    @click.pass_context
    def user_list(ctx: click.Context, as_json: bool) -> None:
        rt = runtime(ctx)
        with rt.db.read() as conn:
            accounts = users.listing(conn)
        if as_json:
            echo_json([a.to_dict() for a in accounts])
            return
        names = Directory(rt)
        header = [text(ctx, f"user.col.{c}") for c in ("name", "role", "scope", "totp", "state")]
        rows = [
            [
                a.name,
                a.role,
                ", ".join(names.place_path(p) for p in a.scope) or text(ctx, "user.whole"),
                text(ctx, "user.yes" if a.totp else "user.no"),
                text(ctx, "user.state.active" if a.active else "user.state.disabled"),
            ]
            for a in accounts
        ]
        click.echo(render(header, rows))
        say(ctx, "user.total", count=len(accounts))

    @user.command("disable", help=h("user_disable"), short_help=h("user_disable"))
    @click.argument("name", metavar="NAME")
    @global_options(lang)
    @click.pass_context
    def user_disable(ctx: click.Context, name: str) -> None:
        users.set_disabled(runtime(ctx), name, True, by=CLI_ACTOR, now=now_ms())
        say(ctx, "user.disabled", name=name)

    @user.command("enable", help=h("user_enable"), short_help=h("user_enable"))
    @click.argument("name", metavar="NAME")
    @global_options(lang)
    @click.pass_context
    def user_enable(ctx: click.Context, name: str) -> None:
        users.set_disabled(runtime(ctx), name, False, by=CLI_ACTOR, now=now_ms())
        say(ctx, "user.enabled", name=name)

    @user.command("reset", help=h("user_reset"), short_help=h("user_reset"))
    @click.argument("name", metavar="NAME")
    @click.option("--password-stdin", is_flag=True, help=h("user_password_stdin"))
    @global_options(lang)
    @click.pass_context
    def user_reset(ctx: click.Context, name: str, password_stdin: bool) -> None:
        rt = runtime(ctx)
        _, generated = users.reset(
            rt, name, password=_password(password_stdin), by=CLI_ACTOR, now=now_ms()
        )
        say(ctx, "user.reset", name=name)
        if generated:
            say(ctx, "user.one_time", password=generated)

    @user.command("totp", help=h("user_totp"), short_help=h("user_totp"))
    @click.argument("name", metavar="NAME")
    @click.option("--png", type=click.Path(dir_okay=False, path_type=Path), help=h("user_totp_png"))
    @click.option("--off", is_flag=True, help=h("user_totp_off"))
    @global_options(lang)
    @click.pass_context
    def user_totp(ctx: click.Context, name: str, png: Path | None, off: bool) -> None:
        rt = runtime(ctx)
        secret = users.set_totp(rt, name, enable=not off, by=CLI_ACTOR, now=now_ms())
        if secret is None:
            say(ctx, "user.totp_off", name=name)
            return
        uri = users.totp_uri(secret, name)
        say(ctx, "user.totp_on", name=name)
        say(ctx, "user.totp_uri", uri=uri)
        import segno

        image = segno.make(uri, error="m")
        if png:
            image.save(str(png), scale=8)
            say(ctx, "user.totp_png", path=str(png))
        image.terminal(compact=True)

    @group.group("audit", cls=Group, help=h("audit"), short_help=h("audit_short"))
    def audit_group() -> None:
        pass

    @audit_group.command("verify", help=h("audit_verify"), short_help=h("audit_verify"))
    @global_options(lang)
    @click.pass_context
    def audit_verify(ctx: click.Context) -> None:
        rt = runtime(ctx)
        with rt.db.read() as conn:
            verdict = audit.verify(conn)
        if verdict.ok:
            say(ctx, "audit.ok", count=verdict.checked)
            return
        reason = text(ctx, f"audit.reason.{verdict.reason}")
        say(ctx, "audit.broken", id=verdict.broken, reason=reason, count=verdict.checked)
        ctx.exit(1)

    @audit_group.command("list", help=h("audit_list"), short_help=h("audit_list"))
    @click.option("--action", help=h("audit_action"))
    @click.option("--who", help=h("audit_who"))
    @click.option("--limit", type=int, default=50, show_default=True, help=h("audit_limit"))
    @click.option("--json", "as_json", is_flag=True, help=h("json"))
    @global_options(lang)
    @click.pass_context
    def audit_list(
        ctx: click.Context, action: str | None, who: str | None, limit: int, as_json: bool
    ) -> None:
        rt = runtime(ctx)
        with rt.db.read() as conn:
            entries = audit.listing(conn, who=who, action=action, limit=limit)
        if as_json:
            echo_json([e.to_dict() for e in entries])
            return
        where = zone(ctx)
        columns = ("id", "at", "who", "action", "target", "details")
        header = [text(ctx, f"audit.col.{c}") for c in columns]
        rows = [
            [
                str(e.id),
                localtime.show(e.at, where),
                e.who,
                e.action,
                e.target,
                json.dumps(e.details, ensure_ascii=False, sort_keys=True),
            ]
            for e in entries
        ]
        click.echo(render(header, rows))
        say(ctx, "audit.total", count=len(entries), zone=rt.settings.timezone)
