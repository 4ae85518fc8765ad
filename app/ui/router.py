"""Routes → views, a back stack, and the :class:`~app.viewmodels.base.Navigator` the view-models use.

Each route has a builder and, for detail screens, a parent route shown underneath it (so the
AppBar's back arrow works). A route pattern uses ``{name}`` segments: ``/assignment/{id}``.
Views own their view-model subscriptions and hand the router a cleanup callback to run when they
leave the stack.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import flet as ft

log = logging.getLogger(__name__)

Cleanup = Callable[[], None]


@dataclass
class Screen:
    """What a route builder returns: the Flet view and what to run when it is dropped."""

    view: ft.View
    cleanups: list[Cleanup] = field(default_factory=list)


Builder = Callable[[Any, dict[str, str]], Screen]


@dataclass(frozen=True)
class Route:
    pattern: str
    build: Builder
    parent: str | None = None

    def match(self, path: str) -> dict[str, str] | None:
        regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.pattern) + "$"
        found = re.match(regex, path)
        return found.groupdict() if found else None


class Router:
    """Builds and swaps views on the page; safe to call from any thread."""

    def __init__(self, page: ft.Page, context: Any, routes: list[Route]) -> None:
        self.page = page
        self.context = context
        self.routes = routes
        self._stack: list[tuple[str, Screen]] = []
        self._lock = threading.RLock()
        self._snack: ft.SnackBar | None = None
        page.on_view_pop = self._on_view_pop

    @property
    def current(self) -> str | None:
        with self._lock:
            return self._stack[-1][0] if self._stack else None

    def _find(self, path: str) -> tuple[Route, dict[str, str]]:
        for route in self.routes:
            params = route.match(path)
            if params is not None:
                return route, params
        raise KeyError(path)

    def _chain(self, path: str) -> list[str]:
        chain = [path]
        route, params = self._find(path)
        while route.parent is not None:
            parent = route.parent.format(**params)
            chain.insert(0, parent)
            route, params = self._find(parent)
        return chain

    def go(self, path: str) -> None:
        with self._lock:
            chain = self._chain(path)
            keep = 0
            while (
                keep < len(self._stack)
                and keep < len(chain) - 1
                and self._stack[keep][0] == chain[keep]
            ):
                keep += 1
            for _, screen in self._stack[keep:]:
                self._drop(screen)
            del self._stack[keep:]
            for item in chain[keep:]:
                route, params = self._find(item)
                self._stack.append((item, route.build(self.context, params)))
            self.page.views.clear()
            self.page.views.extend(screen.view for _, screen in self._stack)
            self.page.route = path
        self.page.update()

    def replace_all(self, path: str) -> None:
        """Go to ``path`` dropping the whole stack (after unlock, lock, wipe)."""
        with self._lock:
            for _, screen in self._stack:
                self._drop(screen)
            self._stack.clear()
        self.go(path)

    def back(self) -> None:
        with self._lock:
            if len(self._stack) <= 1:
                return
            _, screen = self._stack.pop()
            self._drop(screen)
            self.page.views.pop()
            self.page.route = self._stack[-1][0]
        self.page.update()

    def refresh(self) -> None:
        """Rebuild the top screen (after a language change)."""
        with self._lock:
            if not self._stack:
                return
            path = self._stack[-1][0]
            paths = [p for p, _ in self._stack]
            for _, screen in self._stack:
                self._drop(screen)
            self._stack.clear()
        self.go(paths[0])
        for p in paths[1:]:
            self.go(p)
        if self.current != path:
            self.go(path)

    def notify(self, message: str, *, error: bool = False) -> None:
        snack = ft.SnackBar(
            content=ft.Text(message),
            bgcolor=ft.Colors.RED_700 if error else None,
            duration=ft.Duration(seconds=6 if error else 3),
        )
        self._snack = snack
        self.page.show_dialog(snack)

    def _on_view_pop(self, e: ft.ViewPopEvent) -> None:
        self.back()

    @staticmethod
    def _drop(screen: Screen) -> None:
        for cleanup in screen.cleanups:
            try:
                cleanup()
            except Exception:  # a view's cleanup must not break navigation
                log.exception("view cleanup failed")
