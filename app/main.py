"""Composition root: config → device (store) → sync service → Flet.

``python -m app --data-dir DIR --port 8550 [--server URL]`` serves this phone's screen in web
mode on 127.0.0.1 (the CanvasKit renderer is bundled: ``no_cdn``). Each process is one phone.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from app import i18n
from app.config import AppConfig
from app.services.device import Device
from app.services.sync_service import SyncService

ASSETS = Path(__file__).resolve().parents[1] / "assets"


def build(config: AppConfig) -> tuple[Device, SyncService]:
    i18n.set_language(config.language)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    device = Device(config.data_dir, idle_lock_s=config.idle_lock_s)
    sync = SyncService(device, probe_max_s=config.probe_max_s)
    return device, sync


def main(argv: list[str] | None = None) -> int:
    import flet as ft

    from app.ui.app import PhoneApp

    logging.basicConfig(
        level=os.environ.get("LINLI_LOG", "INFO"), format="%(asctime)s %(name)s %(message)s"
    )
    config = AppConfig.from_args(argv)
    device, sync = build(config)
    sync.start()
    phone = PhoneApp(device, sync, server_url=config.server_url)
    print(f"linli phone ({config.data_dir}) on http://{config.host}:{config.port}", flush=True)
    if not config.open_browser:
        os.environ["FLET_FORCE_WEB_SERVER"] = "1"  # serve only; never try the desktop client
    ft.run(
        phone,
        host=config.host,
        port=config.port,
        view=ft.AppView.WEB_BROWSER,
        assets_dir=str(ASSETS),
        no_cdn=True,
    )
    sync.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
