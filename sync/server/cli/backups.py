"""``backup PATH`` and ``restore PATH``: the whole database to one file and back.

See :mod:`sync.server.backup` for the file and the checks. ``backup`` runs while ``serve`` runs
(one consistent read snapshot). ``restore`` needs the server stopped (it refuses while another
process uses the database), the key file the backup was made with in the data dir, and an empty
database — ``init`` output counts as empty; any other with ``--replace --yes``. Without ``--yes``
it asks before writing. Both show their progress (rows done / total) on stderr and end by saying
what to do next.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from sync.i18n import t
from sync.server import backup, config, localtime
from sync.server.cli.base import global_options, say, settings, text
from sync.server.db import Database
from sync.server.vault import Vault

#: seconds between two progress lines
PROGRESS_EVERY_S = 1.0


class Meter:
    """Progress on stderr, at most once a second, plus the last line of each stage."""

    def __init__(self, ctx: click.Context) -> None:
        self.ctx = ctx
        self.last = 0.0
        self.finished: set[str] = set()

    def __call__(self, stage: str, table: str, done: int, total: int) -> None:
        now = time.monotonic()
        if done >= total:
            if stage in self.finished:
                return
            self.finished.add(stage)
        elif now - self.last < PROGRESS_EVERY_S:
            return
        self.last = now
        percent = 100 if total == 0 else done * 100 // total
        click.echo(
            text(
                self.ctx,
                f"backup.progress.{stage}",
                table=table or "-",
                done=done,
                total=total,
                percent=percent,
            ),
            err=True,
        )


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MiB" if n >= 1024 * 1024 else f"{n / 1024:.1f} KiB"


def register(group: click.Group, lang_: str) -> None:
    def h(key: str) -> str:
        return t(f"server.cli.help.{key}", lang_)

    @group.command("backup", help=h("backup"), short_help=h("backup_short"))
    @click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
    @global_options(lang_)
    @click.pass_context
    def make_backup(ctx: click.Context, path: Path) -> None:
        chosen = settings(ctx)
        secrets = config.load_secrets(chosen)
        database = ctx.with_resource(Database(chosen.database_url))
        made = backup.make(database, Vault(secrets.data_key), path, progress=Meter(ctx))
        say(
            ctx,
            "backup.made",
            path=str(made.path),
            rows=sum(made.rows.values()),
            tables=len(made.rows),
            size=_size(made.size),
            seconds=made.seconds,
            source=made.source,
            revision=",".join(made.revision),
        )
        say(ctx, "backup.made_sha", sha=made.sha256)
        say(ctx, "backup.made_keys", key_file=str(chosen.key_path))

    @group.command("restore", help=h("restore"), short_help=h("restore_short"))
    @click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--replace", is_flag=True, help=h("restore_replace"))
    @click.option("--yes", is_flag=True, help=h("restore_yes"))
    @global_options(lang_)
    @click.pass_context
    def restore(ctx: click.Context, path: Path, replace: bool, yes: bool) -> None:
        if replace and not yes:
            raise backup.BackupError("backup.replace_unconfirmed", path=str(path))
        chosen = settings(ctx)
        if not chosen.key_path.exists():
            raise backup.BackupError(
                "backup.no_key_file", key_file=str(chosen.key_path), path=str(path)
            )
        secrets = config.load_secrets(chosen)
        database = ctx.with_resource(Database(chosen.database_url))
        meter = Meter(ctx)
        plan = backup.prepare(
            database,
            Vault(secrets.data_key),
            path,
            key_file=chosen.key_path,
            replace=replace,
            progress=meter,
        )
        header = plan.header
        made = localtime.show(header.created_at, localtime.zone(chosen.timezone))
        say(
            ctx,
            "restore.checked",
            path=str(path),
            made=made,
            zone=chosen.timezone,
            source=header.source,
            revision=",".join(header.revision),
            rows=header.total,
        )
        if not yes:
            try:
                confirmed = click.confirm(
                    text(ctx, "restore.confirm", database=database.safe_url()), default=False
                )
            except click.Abort:
                confirmed = False
            if not confirmed:
                say(ctx, "restore.cancelled")
                raise click.exceptions.Exit(1)
        done = backup.restore(plan, progress=meter)
        say(
            ctx,
            "restore.replaced" if done.replaced else "restore.done",
            rows=header.total,
            tables=len(header.rows),
            database=database.safe_url(),
            seconds=done.seconds,
        )
        if done.steps:
            steps = ", ".join(step.revision for step in done.steps)
            say(ctx, "restore.migrated", revision=",".join(header.revision), steps=steps)
        say(ctx, "restore.epoch", epoch=done.epoch)
        say(ctx, "restore.key_checked", key_file=str(chosen.key_path))
        for step in ("restart", "coordinators", "server_changes", "enrolled_after"):
            say(ctx, f"restore.next.{step}", made=made, zone=chosen.timezone)
