"""``python -m sync.server``: set up, run and administer the server.

Texts (help and output) come from the catalogs (``server.cli.*``) in the language of ``--lang``
or ``LINLI_LANG`` (zh-CN by default). Errors print their coded catalog text and exit with 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sync.domain.times import now_iso
from sync.errors import LinliError
from sync.i18n import normalise, t
from sync.protocol import now_ms
from sync.server import admin, config, demo, devices, enrollment, households_csv, logs
from sync.server.db import Database
from sync.server.runtime import Runtime

Handler = Callable[[argparse.Namespace, str], int]


def _lang(argv: Sequence[str]) -> str:
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return normalise(argv[i + 1])
        if arg.startswith("--lang="):
            return normalise(arg.split("=", 1)[1])
    return normalise(os.environ.get("LINLI_LANG"))


def build_parser(lang: str) -> argparse.ArgumentParser:
    def h(key: str) -> str:
        return t(f"server.cli.help.{key}", lang).replace("%", "%%")

    parser = argparse.ArgumentParser(prog="python -m sync.server", description=h("prog"))
    parser.add_argument("--data-dir", help=h("data_dir"))
    parser.add_argument("--database", help=h("database"))
    parser.add_argument("--lang", help=h("lang"))
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("init", help=h("init"), description=h("init"))
    p.add_argument("--public-url", help=h("public_url"))
    p.set_defaults(run=cmd_init)

    p = sub.add_parser("serve", help=h("serve"), description=h("serve"))
    p.add_argument("--host", default="127.0.0.1", help=h("host"))
    p.add_argument("--port", type=int, default=8700, help=h("port"))
    p.add_argument("--workers", type=int, default=1, help=h("workers"))
    p.set_defaults(run=cmd_serve)

    p = sub.add_parser("enroll", help=h("enroll"), description=h("enroll"))
    p.add_argument("--member", help=h("member"))
    p.add_argument("--name", help=h("name"))
    p.add_argument("--role", choices=("volunteer", "team_lead", "coordinator"), help=h("role"))
    p.add_argument("--team", help=h("team"))
    p.add_argument("--phone", help=h("phone"))
    p.add_argument("--expires", default="24h", help=h("expires"))
    p.add_argument("--qr", type=Path, help=h("qr"))
    p.add_argument("--url", help=h("url"))
    p.add_argument("--no-terminal-qr", action="store_true", help=h("no_terminal_qr"))
    p.set_defaults(run=cmd_enroll)

    p = sub.add_parser("revoke", help=h("revoke"), description=h("revoke"))
    p.add_argument("device", metavar="DEVICE", help=h("device"))
    p.set_defaults(run=cmd_revoke)

    p = sub.add_parser("devices", help=h("devices"), description=h("devices"))
    p.add_argument("--json", action="store_true", help=h("json"))
    p.set_defaults(run=cmd_devices)

    p = sub.add_parser("import-households", help=h("import"), description=h("import_long"))
    p.add_argument("csv", type=Path, metavar="CSV", help=h("csv"))
    p.add_argument("--community", required=True, help=h("community"))
    p.set_defaults(run=cmd_import)

    p = sub.add_parser("team", help=h("team_group"), description=h("team_group"))
    team_sub = p.add_subparsers(dest="team_command", required=True, metavar="ACTION")
    q = team_sub.add_parser("create", help=h("team_create"), description=h("team_create"))
    q.add_argument("--name", required=True, help=h("team_name"))
    q.add_argument(
        "--kind",
        required=True,
        choices=("neighbour_service", "three_person", "targeted_service"),
        help=h("team_kind"),
    )
    q.add_argument("--community", required=True, help=h("community"))
    q.add_argument("--area", action="append", default=[], help=h("area"))
    q.set_defaults(run=cmd_team_create)

    p = sub.add_parser("assign", help=h("assign"), description=h("assign"))
    p.add_argument("--type", required=True, help=h("assign_type"))
    p.add_argument(
        "--target-kind", default="household", choices=("household", "place"), help=h("target_kind")
    )
    p.add_argument("--target", required=True, help=h("target"))
    p.add_argument("--team", required=True, help=h("team"))
    p.add_argument("--assignee", help=h("assignee"))
    p.add_argument(
        "--priority",
        default="normal",
        choices=("low", "normal", "high", "urgent"),
        help=h("priority"),
    )
    p.add_argument("--due", help=h("due"))
    p.add_argument("--title", help=h("title"))
    p.add_argument("--instructions", help=h("instructions"))
    p.set_defaults(run=cmd_assign)

    p = sub.add_parser("notice", help=h("notice"), description=h("notice"))
    p.add_argument(
        "--kind",
        default="daily",
        choices=("daily", "policy", "rumour_rebuttal"),
        help=h("notice_kind"),
    )
    p.add_argument("--title", required=True, help=h("title"))
    p.add_argument("--body", required=True, help=h("body"))
    p.add_argument("--community", required=True, help=h("community"))
    p.set_defaults(run=cmd_notice)

    p = sub.add_parser("demo", help=h("demo"), description=h("demo"))
    p.set_defaults(run=cmd_demo)
    return parser


def _settings(args: argparse.Namespace, public_url: str | None = None) -> config.Settings:
    return config.resolve(args.data_dir, args.database, public_url)


def _runtime(args: argparse.Namespace) -> Runtime:
    return Runtime.open(_settings(args))


def _say(key: str, lang: str, **params: Any) -> None:
    print(t(f"server.cli.{key}", lang, **params))


def cmd_init(args: argparse.Namespace, lang: str) -> int:
    settings = _settings(args, args.public_url)
    explicit = bool(args.database or os.environ.get(config.ENV_DATABASE))
    config.init_data_dir(settings, save_database=explicit)
    database = Database(settings.database_url)
    try:
        database.create_schema()
    finally:
        database.dispose()
    _say("initialised", lang, data_dir=str(settings.data_dir), database=database.safe_url())
    return 0


def cmd_serve(args: argparse.Namespace, lang: str) -> int:
    from sync.server import serving

    settings = _settings(args)
    Runtime.open(settings).close()  # fail early, with a clear message, if not initialised
    os.environ[config.ENV_DATA_DIR] = str(settings.data_dir)
    os.environ[config.ENV_DATABASE] = settings.database_url
    _say("serving", lang, host=args.host, port=args.port, workers=args.workers)
    serving.run_server(args.host, args.port, args.workers)
    return 0


def cmd_enroll(args: argparse.Namespace, lang: str) -> int:
    rt = _runtime(args)
    try:
        member_id = args.member
        if member_id is None:
            if not (args.name and args.role):
                _say("enroll_needs_member", lang)
                return 2
            member_id = admin.create_member(
                rt, name=args.name, role=args.role, team_id=args.team, phone=args.phone
            )
        issued = enrollment.issue(rt, member_id, enrollment.parse_duration(args.expires))
        url = args.url or rt.settings.public_url
        content = enrollment.qr_content(url, issued.code)
        expires = datetime.fromtimestamp(issued.expires_at / 1000, UTC).strftime(
            "%Y-%m-%d %H:%M UTC"
        )
        _say("enroll_code", lang, code=issued.code, member=member_id, expires=expires, url=url)
        import segno

        qr = segno.make(content, error="m")
        if args.qr:
            qr.save(str(args.qr), scale=8)
            _say("enroll_qr_saved", lang, path=str(args.qr))
        if not args.no_terminal_qr:
            qr.terminal(compact=True)
    finally:
        rt.close()
    return 0


def cmd_revoke(args: argparse.Namespace, lang: str) -> int:
    rt = _runtime(args)
    try:
        with rt.db.write() as conn:
            done = devices.revoke(conn, args.device, now_ms())
    finally:
        rt.close()
    logs.event("revoke", device=args.device, done=done)
    _say("revoked" if done else "revoke_unknown", lang, device=args.device)
    return 0 if done else 1


def _when(ms: int | None, lang: str) -> str:
    if not ms:
        return t("server.cli.never", lang)
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


def cmd_devices(args: argparse.Namespace, lang: str) -> int:
    rt = _runtime(args)
    try:
        with rt.db.read() as conn:
            rows = devices.listing(conn, rt.vault)
    finally:
        rt.close()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    _say("devices_header", lang)
    for r in rows:
        status = t("server.cli.revoked_flag" if r["revoked"] else "server.cli.active_flag", lang)
        _say(
            "devices_row",
            lang,
            device=r["device_id"],
            label=r["label"] or "-",
            role=r["role"],
            team=r["team_id"] or "-",
            last=_when(r["last_sync_at"], lang),
            status=status,
        )
    _say("devices_total", lang, count=len(rows))
    return 0


def cmd_import(args: argparse.Namespace, lang: str) -> int:
    rt = _runtime(args)
    try:
        result = households_csv.import_households(rt, args.csv, args.community)
    finally:
        rt.close()
    _say(
        "imported",
        lang,
        households=result.households,
        residents=result.residents,
        places=result.places,
        skipped=result.skipped_residents,
    )
    return 0


def cmd_team_create(args: argparse.Namespace, lang: str) -> int:
    rt = _runtime(args)
    try:
        team_id = admin.create_team(
            rt, name=args.name, kind=args.kind, community_id=args.community, area=args.area
        )
    finally:
        rt.close()
    _say("team_created", lang, team=team_id)
    return 0


def cmd_assign(args: argparse.Namespace, lang: str) -> int:
    rt = _runtime(args)
    values = {
        "type": args.type,
        "target_kind": args.target_kind,
        "target_id": args.target,
        "team_id": args.team,
        "assignee_id": args.assignee,
        "priority": args.priority,
        "due": args.due,
        "title": args.title,
        "instructions": args.instructions,
    }
    try:
        assignment_id = admin.assign(rt, values)
    finally:
        rt.close()
    _say("assigned", lang, assignment=assignment_id)
    return 0


def cmd_notice(args: argparse.Namespace, lang: str) -> int:
    rt = _runtime(args)
    try:
        notice_id = admin.publish_notice(
            rt,
            kind=args.kind,
            title=args.title,
            body=args.body,
            community_id=args.community,
            published_at=now_iso(),
        )
    finally:
        rt.close()
    _say("noticed", lang, notice=notice_id)
    return 0


def cmd_demo(args: argparse.Namespace, lang: str) -> int:
    rt = _runtime(args)
    try:
        summary = demo.seed(rt)
    finally:
        rt.close()
    counts = ", ".join(f"{kind} {n}" for kind, n in sorted(summary.counts.items()))
    _say("demo_seeded", lang, counts=counts, community=summary.community_id)
    for member_id, name, role, team in summary.members:
        _say("demo_member", lang, member=member_id, name=name, role=role, team=team or "-")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    lang = _lang(args_list)
    args = build_parser(lang).parse_args(args_list)
    run: Handler = args.run
    try:
        return run(args, lang)
    except LinliError as exc:
        print(exc.describe(lang), file=sys.stderr)
        cause = exc.__cause__
        if isinstance(cause, LinliError):
            print("  " + cause.describe(lang), file=sys.stderr)
        return 2
