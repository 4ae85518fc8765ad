"""The volunteer's field screens: my shift, an assignment, requests, notices and contacts."""

from app.ui.router import Route
from app.ui.views.field.assignment import assignment_screen
from app.ui.views.field.home import home_screen
from app.ui.views.field.new_request import assignment_request_screen, new_request_screen
from app.ui.views.field.notices import contacts_screen, notice_screen, notices_screen
from app.ui.views.field.requests import request_screen, requests_screen

ROUTES = [
    Route("/home", home_screen),
    Route("/assignment/{id}", assignment_screen, parent="/home"),
    Route("/assignment/{id}/request", assignment_request_screen, parent="/assignment/{id}"),
    Route("/requests", requests_screen),
    Route("/requests/new", new_request_screen, parent="/requests"),
    Route("/requests/new/{household_id}", new_request_screen, parent="/requests"),
    Route("/request/{id}", request_screen, parent="/requests"),
    Route("/notices", notices_screen),
    Route("/notice/{id}", notice_screen, parent="/notices"),
    Route("/contacts", contacts_screen, parent="/notices"),
]

__all__ = ["ROUTES"]
