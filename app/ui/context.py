"""What every view gets: the page, the router (as the view-models' Navigator) and the services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import flet as ft

from app.services.device import Device
from app.services.sync_service import SyncService

if TYPE_CHECKING:
    from app.ui.router import Router


@dataclass
class UiContext:
    page: ft.Page
    nav: Router
    device: Device
    sync: SyncService

    def run_background(self, work: object) -> None:
        """Run ``work()`` off the UI thread (slow I/O: enroll, unlock, sync)."""
        self.page.run_thread(work)  # type: ignore[arg-type]
