"""``init``, ``upgrade``, ``serve`` and ``demo``: set a server up, bring its database schema to
this code's head, run it, seed the demo district.

``init`` creates the schema by running the migrations from empty (not ``create_all`` + stamp):
a new database is built by exactly the steps an upgraded one went through, and the test that
compares a migrated database with ``db.metadata`` guards both. ``serve`` (like every command that
opens the runtime) refuses a database that is not at head (``server.schema_behind`` /
``server.schema_ahead``, exit 2); ``upgrade`` runs the pending migrations, idempotently.
"""

from __future__ import annotations

import os
from dataclasses import replace
from importlib.metadata import entry_points
from typing import Any

import click

from sync.i18n import t
from sync.server import config, demo, localtime, schema
from sync.server.cli.base import global_options, runtime, say, settings, state
from sync.server.db import Database
from sync.server.limits import MIB, Limits
from sync.server.runtime import Runtime


def register(group: click.Group, lang: str) -> None:
    def h(key: str) -> str:
        return t(f"server.cli.help.{key}", lang)

    @group.command("init", help=h("init"), short_help=h("init"))
    @click.option("--public-url", help=h("public_url"))
    @click.option("--timezone", help=h("timezone"))
    @click.option("--practice", is_flag=True, help=h("practice"))
    @global_options(lang)
    @click.pass_context
    def init(
        ctx: click.Context, public_url: str | None, timezone: str | None, practice: bool
    ) -> None:
        chosen = (
            replace(settings(ctx, public_url, timezone), practice=True)
            if practice
            else (settings(ctx, public_url, timezone))
        )
        localtime.zone(chosen.timezone)  # refuse a zone the system does not know
        explicit = bool(state(ctx).database or os.environ.get(config.ENV_DATABASE))
        config.init_data_dir(chosen, save_database=explicit)
        database = ctx.with_resource(Database(chosen.database_url))
        database.create_schema()
        say(ctx, "initialised", data_dir=str(chosen.data_dir), database=database.safe_url())
        if chosen.practice:
            say(ctx, "initialised_practice")

    @group.command("upgrade", help=h("upgrade"), short_help=h("upgrade"))
    @global_options(lang)
    @click.pass_context
    def upgrade(ctx: click.Context) -> None:
        chosen = settings(ctx)
        config.load_secrets(chosen)  # server.not_initialised before touching any database
        database = ctx.with_resource(Database(chosen.database_url))
        before, steps = database.migrate()
        if before.state == schema.UNVERSIONED:
            say(ctx, "schema_stamped", revision=schema.BASELINE)
        for step in steps:
            say(ctx, "schema_applied", revision=step.revision)
        head = ",".join(before.head)
        done = steps or before.state == schema.UNVERSIONED
        say(
            ctx,
            "schema_upgraded" if done else "schema_current",
            head=head,
            database=database.safe_url(),
        )

    @group.command("serve", help=h("serve"), short_help=h("serve"))
    @click.option("--host", default="127.0.0.1", help=h("host"))
    @click.option("--port", type=int, default=8700, help=h("port"))
    @click.option("--workers", type=int, default=1, help=h("workers"))
    @click.option("--max-connections", type=int, default=None, help=h("max_connections"))
    @click.option(
        "--body-budget-mib",
        type=int,
        default=None,
        help=h("body_budget"),
    )
    @click.option("--header-timeout", type=float, default=None, help=h("header_timeout"))
    @click.option("--keep-alive", type=int, default=None, help=h("keep_alive"))
    @click.option("--no-console", is_flag=True, help=h("no_console"))
    @global_options(lang)
    @click.pass_context
    def serve(
        ctx: click.Context,
        host: str,
        port: int,
        workers: int,
        max_connections: int | None,
        body_budget_mib: int | None,
        header_timeout: float | None,
        keep_alive: int | None,
        no_console: bool,
    ) -> None:
        from sync.server import api, serving

        chosen = settings(ctx)
        with Runtime.open(chosen):  # fail early, with a clear message, if not initialised
            pass
        os.environ[config.ENV_DATA_DIR] = str(chosen.data_dir)
        os.environ[config.ENV_DATABASE] = chosen.database_url
        os.environ[api.ENV_MOUNTS] = "0" if no_console else "1"
        given: dict[str, Any] = {
            "max_connections": max_connections,
            "body_budget_bytes": None if body_budget_mib is None else body_budget_mib * MIB,
            "header_timeout_s": header_timeout,
            "keep_alive_s": keep_alive,
        }
        # options override LINLI_LIMIT_* variables, which override the defaults
        limits = replace(Limits.from_env(), **{k: v for k, v in given.items() if v is not None})
        say(ctx, "serving", host=host, port=port, workers=workers)
        if not no_console and any(entry_points(group=api.MOUNT_GROUP)):
            say(ctx, "console_at", host=host, port=port)
        serving.run_server(host, port, workers, limits)

    @group.command("demo", help=h("demo"), short_help=h("demo"))
    @global_options(lang)
    @click.pass_context
    def seed_demo(ctx: click.Context) -> None:
        rt = runtime(ctx)
        summary = demo.seed(rt)
        counts = ", ".join(f"{kind} {n}" for kind, n in sorted(summary.counts.items()))
        say(ctx, "demo_seeded", counts=counts, community=summary.community_id)
        account, password = demo.console_account(rt, summary.community_id)
        say(ctx, "demo_console", name=account, password=password)
        for member_id, name, role, team in summary.members:
            say(ctx, "demo_member", member=member_id, name=name, role=role, team=team or "-")
