"""Placeholder until this area lands."""

from app.ui.router import Route

ROUTES: list[Route] = []
