"""Colours, type and sizes. Phone-first: 360–430 px wide, touch targets ≥ 48 px."""

from __future__ import annotations

import flet as ft

FONT_FAMILY = "LinliSans"
FONT_ASSET = "fonts/NotoSansSC-subset.otf"
TOUCH = 48  # minimum touch target, logical px
GAP = 8

PRIMARY = "#C62828"  # a calm red, the command centre's colour
OK = "#2E7D32"
WARN = "#EF6C00"
DANGER = "#C62828"
INFO = "#1565C0"
MUTED = "#616161"
SURFACE_ALT = "#F5F5F5"
PRACTICE = "#8A4B00"  # the practice banner (as the console's)
ON_PRACTICE = "#FFFFFF"

STATUS_COLOURS: dict[str, str] = {
    "pending": MUTED,
    "in_progress": INFO,
    "done": OK,
    "no_answer": WARN,
    "refused": DANGER,
    "revisit": WARN,
    "cancelled": MUTED,
    "new": DANGER,
    "acknowledged": WARN,
    "resolved": OK,
    "confirmed": OK,
}

URGENCY_COLOURS: dict[str, str] = {"routine": MUTED, "urgent": WARN, "emergency": DANGER}


def apply(page: ft.Page) -> None:
    page.fonts = {FONT_FAMILY: FONT_ASSET}
    page.theme = ft.Theme(font_family=FONT_FAMILY, color_scheme_seed=PRIMARY)
    page.theme_mode = ft.ThemeMode.LIGHT
    page.padding = 0
    page.spacing = 0
