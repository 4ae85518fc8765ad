"""Builds the app on a Flet page: theme, fonts, routes, the first screen, auto-lock."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable

import flet as ft

from app import i18n
from app.services.device import META_LANGUAGE, Device
from app.services.observable import Call, Observable
from app.services.sync_service import SyncService
from app.ui import theme
from app.ui.context import UiContext
from app.ui.router import Route, Router

log = logging.getLogger(__name__)


def all_routes() -> list[Route]:
    from app.ui.views import access, field, settings, team

    return [*access.ROUTES, *field.ROUTES, *team.ROUTES, *settings.ROUTES]


def on_loop(loop: asyncio.AbstractEventLoop) -> Callable[[Call], None]:
    """Run each call on ``loop`` (the UI's): at once when already there, else queued in order.
    So a change announced by the background sync or the idle timer redraws screens only from the
    UI thread, never at the same time as a tap's own redraw."""

    def deliver(call: Call) -> None:
        here = False
        with contextlib.suppress(RuntimeError):
            here = asyncio.get_running_loop() is loop
        if not here:
            try:
                loop.call_soon_threadsafe(call)
                return
            except RuntimeError:  # the loop is closed: the app is shutting down
                pass
        call()

    return deliver


def start_route(device: Device) -> str:
    return {"setup": "/setup", "locked": "/unlock"}.get(device.state, "/home")


class PhoneApp:
    """One phone: a device, its sync service, and the screen(s) attached to it.

    In web mode every browser tab that opens the app is another screen of the same phone, so the
    device and the sync service are shared and created once per process.
    """

    def __init__(
        self,
        device: Device,
        sync: SyncService,
        server_url: str | None = None,
        *,
        idle_check_s: float = 5.0,
    ) -> None:
        self.device, self.sync, self.server_url = device, sync, server_url
        self.idle_check_s = idle_check_s
        self.routers: list[Router] = []
        self._stop = threading.Event()
        sync.on_wiped = self._wiped
        device.subscribe(self._device_changed)
        threading.Thread(target=self._idle_watch, name="linli-idle", daemon=True).start()

    def __call__(self, page: ft.Page) -> None:
        if Observable.deliver is None:  # the first screen: all screens share the server's loop
            Observable.deliver = on_loop(asyncio.get_running_loop())
        page.title = i18n.tr("ui.app.title")
        page.data = self.server_url
        theme.apply(page)
        page.locale_configuration = ft.LocaleConfiguration(
            supported_locales=[ft.Locale("zh", "CN"), ft.Locale("en", "US")],
            current_locale=ft.Locale("zh", "CN")
            if i18n.language() == "zh-CN"
            else ft.Locale("en", "US"),
        )
        router = Router(page, None, all_routes())
        router.context = UiContext(page=page, nav=router, device=self.device, sync=self.sync)
        self.routers.append(router)

        def touched(_: ft.Event[ft.Page]) -> None:
            self.device.touch()

        page.on_keyboard_event = touched
        page.on_disconnect = lambda _: (
            self.routers.remove(router) if router in self.routers else None
        )
        router.go(start_route(self.device))

    def _device_changed(self) -> None:
        store = self.device.store
        if store is not None:
            lang = store.get_meta(META_LANGUAGE)
            if lang and lang != i18n.language():
                i18n.set_language(lang)
            return
        # Locked (by a tap, by idle time) or wiped: every open screen of this phone follows.
        target = start_route(self.device)
        for router in list(self.routers):
            if router.current not in (target, None):
                router.replace_all(target)

    def _wiped(self, reason: str) -> None:
        # The wipe already sent every screen to /setup (see _device_changed); say why.
        text = i18n.tr("ui.retired") if reason == "retired" else i18n.tr("ui.revoked")
        for router in list(self.routers):
            router.notify(text, error=reason != "retired")

    def _idle_watch(self) -> None:
        while not self._stop.wait(self.idle_check_s):
            if self.device.idle_expired():
                log.info("locking after idle")
                self.device.lock()  # _device_changed moves every screen to /unlock
