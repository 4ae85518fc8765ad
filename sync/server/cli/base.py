"""What every command shares: the language, the global options, resources and output.

Help and output texts are catalog keys (``server.cli.*``) in the language chosen before the
commands are built (``--lang`` anywhere on the line, else ``LINLI_LANG``, else zh-CN) — click's
own headings ("Usage:", "Options", "Commands") included. The global options ``--data-dir``,
``--database`` and ``--lang`` go before the command, or after it. Resources a command opens
(:class:`Runtime`, :class:`Database`) are closed by the command's context when it ends
(``ctx.with_resource``). A coded error prints its catalog text on stderr and exits with 2.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any, TypeVar

import click

from sync.errors import LinliError
from sync.i18n import normalise, t
from sync.server import config, localtime
from sync.server.runtime import Runtime

F = TypeVar("F", bound=Callable[..., Any])
GLOBAL_OPTIONS = ("data_dir", "database", "lang")
_SECTIONS = {"Options": "options", "Commands": "commands", "Arguments": "arguments"}


def lang_of(argv: Sequence[str]) -> str:
    """The language asked for on the command line (anywhere) or in ``LINLI_LANG``."""
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return normalise(argv[i + 1])
        if arg.startswith("--lang="):
            return normalise(arg.split("=", 1)[1])
    return normalise(os.environ.get("LINLI_LANG"))


@dataclass
class State:
    """The root context's object: the language and the global options, wherever given."""

    lang: str = field(default_factory=lambda: normalise(os.environ.get("LINLI_LANG")))
    data_dir: str | None = None
    database: str | None = None


class Formatter(click.HelpFormatter):
    """click's help layout with its headings from the catalogs."""

    lang = "zh-CN"

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        if prefix is None:
            prefix = t("server.cli.usage", self.lang) + " "
        super().write_usage(prog, args, prefix)

    def write_heading(self, heading: str) -> None:
        key = _SECTIONS.get(heading)
        super().write_heading(t(f"server.cli.section.{key}", self.lang) if key else heading)


class Context(click.Context):
    def make_formatter(self) -> click.HelpFormatter:
        formatter = Formatter(width=self.terminal_width, max_width=self.max_content_width)
        formatter.lang = lang(self)
        return formatter


class Command(click.Command):
    context_class = Context

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = t("server.cli.help.help", lang(ctx))
        return option


class Group(click.Group):
    context_class = Context
    command_class = Command
    group_class = type

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = t("server.cli.help.help", lang(ctx))
        return option


class Root(Group):
    """The top group: turns a coded error into its catalog text on stderr and exit code 2."""

    def __init__(self, lang_: str, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.lang = lang_

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        extra.setdefault("obj", State(self.lang))
        return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LinliError as exc:
            code = lang(ctx)
            click.echo(exc.describe(code), err=True)
            cause = exc.__cause__
            if isinstance(cause, LinliError):
                click.echo("  " + cause.describe(code), err=True)
            raise click.exceptions.Exit(2) from exc


def state(ctx: click.Context) -> State:
    found = ctx.find_object(State)
    if found is None:
        found = ctx.find_root().ensure_object(State)
    return found


def lang(ctx: click.Context) -> str:
    found = ctx.find_object(State)
    return found.lang if found else normalise(os.environ.get("LINLI_LANG"))


def _set_global(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value is not None and param.name:
        setattr(state(ctx), param.name, normalise(value) if param.name == "lang" else value)
    return value


def global_options(lang_: str) -> Callable[[F], F]:
    """``--data-dir``, ``--database`` and ``--lang`` on a command (they may follow its name)."""

    def h(key: str) -> str:
        return t(f"server.cli.help.{key}", lang_)

    def decorate(f: F) -> F:
        for name in reversed(GLOBAL_OPTIONS):
            flag = "--" + name.replace("_", "-")
            f = click.option(
                flag, name, help=h(name), callback=_set_global, expose_value=False, is_eager=True
            )(f)
        return f

    return decorate


def say(ctx: click.Context, key: str, **params: Any) -> None:
    click.echo(t(f"server.cli.{key}", lang(ctx), **params))


def text(ctx: click.Context, key: str, **params: Any) -> str:
    return t(f"server.cli.{key}", lang(ctx), **params)


def settings(
    ctx: click.Context, public_url: str | None = None, timezone: str | None = None
) -> config.Settings:
    s = state(ctx)
    return config.resolve(s.data_dir, s.database, public_url, timezone)


def runtime(ctx: click.Context) -> Runtime:
    """The server's runtime, closed when the command ends."""
    return ctx.with_resource(Runtime.open(settings(ctx)))


def zone(ctx: click.Context) -> tzinfo:
    """The configured local time zone of the operation."""
    return localtime.zone(settings(ctx).timezone)
