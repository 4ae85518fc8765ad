"""Where this phone keeps its data and how its screen is served.

In a built app, Flet sets ``FLET_APP_STORAGE_DATA`` to the app's private writable folder. In web
mode (development, the demo, browser tests) each app process is one phone: its ``--data-dir`` is
that phone's storage and the browser is only its screen.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def app_version() -> str:
    """The installed linli version; from a source checkout, the version in its pyproject."""
    try:
        return importlib.metadata.version("linli")
    except importlib.metadata.PackageNotFoundError:
        pass
    try:
        with PYPROJECT.open("rb") as f:
            return str(tomllib.load(f)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "dev"


@dataclass(frozen=True)
class AppConfig:
    data_dir: Path
    server_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8550
    language: str = "zh-CN"
    idle_lock_s: float = 300.0
    probe_max_s: float = 60.0
    open_browser: bool = False

    @classmethod
    def from_args(cls, argv: list[str] | None = None) -> AppConfig:
        default_dir = os.environ.get("LINLI_DATA_DIR") or os.environ.get("FLET_APP_STORAGE_DATA")
        parser = argparse.ArgumentParser(prog="python -m app", description="linli phone app")
        parser.add_argument("--data-dir", default=default_dir or ".linli-phone")
        parser.add_argument("--server", default=os.environ.get("LINLI_SERVER_URL"))
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=int(os.environ.get("LINLI_PORT", "8550")))
        parser.add_argument("--lang", default=os.environ.get("LINLI_LANG", "zh-CN"))
        parser.add_argument(
            "--idle-lock", type=float, default=300.0, help="seconds idle before lock"
        )
        parser.add_argument(
            "--probe-max", type=float, default=60.0, help="longest wait between server probes (s)"
        )
        parser.add_argument("--open", action="store_true", help="open a browser window")
        args = parser.parse_args(argv)
        return cls(
            data_dir=Path(args.data_dir).resolve(),
            server_url=args.server,
            host=args.host,
            port=args.port,
            language=args.lang,
            idle_lock_s=args.idle_lock,
            probe_max_s=args.probe_max,
            open_browser=args.open,
        )
