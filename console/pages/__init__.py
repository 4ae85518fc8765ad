"""The console's pages: one module per page, each an ``APIRouter`` called ``router``.

To add a page (docs/console.md walks through it):

1. write ``console/pages/<name>.py`` with ``router = APIRouter()`` and its routes — a GET taking
   ``v: web.SignedIn`` (or ``web.admin``) returning
   ``web.render(request, "<name>.html", {...}, visitor=v)``; every POST takes
   ``Depends(web.posted)`` (CSRF-checked) and answers with ``web.redirect`` (post/redirect/get);
   filter every row with ``v.scope`` and call ``web.deny`` for one outside it; call
   ``web.record`` for anything that shows residents' names or phones, exports or changes data;
2. write ``console/templates/<name>.html`` extending ``base.html`` (put the part htmx refreshes
   in ``{% block fragment %}``);
3. add its texts to ``console/locales/{zh-CN,en}/<name>.json``;
4. list the module in :data:`PAGES` and give its :data:`NAV` entry the page's path.
"""

from __future__ import annotations

from dataclasses import dataclass

from console.pages import (
    audit,
    contacts,
    devices,
    grid,
    households,
    login,
    notices,
    overview,
    review,
    teams,
)


@dataclass(frozen=True, slots=True)
class NavItem:
    key: str  # the catalog key console.nav.<key>
    path: str | None  # None: a page still to come (shown, not linked)
    admin: bool = False


NAV: tuple[NavItem, ...] = (
    NavItem("overview", "/"),
    NavItem("grid", "/grid"),
    NavItem("households", "/households"),
    NavItem("teams", "/teams"),
    NavItem("devices", "/devices"),
    NavItem("notices", "/notices"),
    NavItem("contacts", "/contacts"),
    NavItem("review", "/review"),
    NavItem("audit", "/audit", admin=True),
)

PAGES = (login, overview, grid, devices, review, audit, teams, households, notices, contacts)
