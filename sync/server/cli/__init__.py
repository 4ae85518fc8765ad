"""``python -m sync.server``: set up, run and administer the server (on click).

Commands, one module per group: :mod:`.setup` (``init``, ``serve``, ``demo``), :mod:`.phones`
(``enroll``, ``retire``, ``revoke``, ``devices``), :mod:`.work` (``import-households``,
``team create``, ``assign``), :mod:`.notices` (``notice publish|edit|withdraw|list|show``,
``contact add|edit|remove|list``), :mod:`.teams` (``team edit|disable|enable|codes``,
``member add|move|disable|enable``, ``import-roster``), :mod:`.places` (``place add``), :mod:`.lists`
(``places``, ``teams``, ``members``), :mod:`.review` (``review list|show|apply|dismiss``) and
:mod:`.accounts` (``user add|list|disable|enable|reset|totp``, ``audit list|verify``: the command
centre's accounts and audit log), :mod:`.backups` (``backup``, ``restore``), :mod:`.rounds`
(``round create|list|show|extend|cancel|copy``). Options that take
an id also take a unique name (:mod:`sync.server.names`); typed times are local to the configured
``timezone`` (:mod:`sync.server.localtime`). Texts come from the catalogs (``server.cli.*``) in the
language of ``--lang`` or ``LINLI_LANG`` (zh-CN by default). Errors print their coded catalog text
on stderr and exit with 2 (see :mod:`.base`).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from sync.i18n import t
from sync.server.cli import (
    accounts,
    backups,
    lists,
    notices,
    phones,
    places,
    review,
    rounds,
    setup,
    teams,
    work,
)
from sync.server.cli.base import GLOBAL_OPTIONS, Root, _set_global, lang_of

PROG = "python -m sync.server"


def build(lang: str) -> click.Group:
    """The command group with its help in ``lang``."""

    def h(key: str) -> str:
        return t(f"server.cli.help.{key}", lang)

    root = Root(lang, name=PROG, help=h("prog"), no_args_is_help=True)
    for name in GLOBAL_OPTIONS:
        flag = "--" + name.replace("_", "-")
        root.params.append(
            click.Option(
                [flag, name], help=h(name), callback=_set_global, expose_value=False, is_eager=True
            )
        )
    for module in (
        setup,
        phones,
        work,
        notices,
        teams,
        places,
        lists,
        review,
        accounts,
        backups,
        rounds,
    ):
        module.register(root, lang)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; its exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        build(lang_of(args)).main(args, prog_name=PROG, standalone_mode=True)
    except SystemExit as done:
        code = done.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0
