"""First run (enroll + choose a PIN) and unlock."""

from __future__ import annotations

from dataclasses import dataclass

from app.i18n import tr
from app.services.device import Device
from app.store.keyfile import PIN_MIN
from app.viewmodels.base import Navigator, Observable, error_text
from sync.client import SyncProgress
from sync.errors import LinliError, ValidationError
from sync.protocol import LINK_SCHEME, parse_enroll_link

HOME = "/home"
SETTINGS = "/settings"


@dataclass
class SetupForm:
    server_url: str = ""
    code: str = ""
    pin: str = ""
    pin_again: str = ""


class SetupViewModel(Observable):
    """Enroll this phone with a one-time code, choose a PIN, pull the team's data.

    The code field also takes the enrollment link of a printed QR code
    (``linli://enroll?server=…&code=…&fp=…``, pasted or scanned): it fills in the server address
    and the code, and the server's key fingerprint is checked against the keys the server answers
    with (``enroll.wrong_server``, nothing kept, if they differ)."""

    def __init__(self, device: Device, nav: Navigator, server_url: str | None = None) -> None:
        super().__init__()
        self.device, self.nav = device, nav
        self.form = SetupForm(server_url=server_url or "")
        self.busy = False
        self.progress: float | None = None
        self.error: str | None = None
        #: the server key fingerprint of a pasted enrollment link (None: a typed code)
        self.fingerprint: str | None = None

    def take_link(self) -> str | None:
        """If the code field holds an enrollment link, split it into the server address and the
        code (keeping its fingerprint); the error text if it is a broken link."""
        f = self.form
        if not f.code.strip().lower().startswith(LINK_SCHEME):
            return None
        try:
            link = parse_enroll_link(f.code)
        except ValidationError as exc:
            return error_text(exc)
        f.server_url, f.code, self.fingerprint = link.server, link.code, link.fingerprint
        return None

    def _check(self) -> str | None:
        broken = self.take_link()
        if broken:
            return broken
        f = self.form
        if not f.server_url.strip():
            return tr("ui.setup.need_server")
        if not f.code.strip():
            return tr("ui.setup.need_code")
        if len(f.pin.strip()) < PIN_MIN:  # checked again by the store; said here before enrolling
            return error_text(ValidationError("store.pin_too_short", min=PIN_MIN))
        if f.pin != f.pin_again:
            return tr("ui.setup.pins_differ")
        return None

    def submit(self) -> bool:
        """Run enrollment (call off the UI thread). Returns True when the phone is ready."""
        problem = self._check()
        if problem:
            self.error = problem
            self.changed()
            return False
        self.busy, self.error, self.progress = True, None, 0.0
        self.changed()
        try:
            self.device.enroll(
                self.form.server_url,
                self.form.code,
                self.form.pin,
                fingerprint=self.fingerprint,
                progress=self._on_progress,
            )
        except LinliError as exc:
            self.busy, self.progress = False, None
            # An enrolled phone whose first pull failed is still usable offline.
            if self.device.state != "unlocked":
                self.error = error_text(exc)
                self.changed()
                return False
            self.nav.notify(error_text(exc), error=True)
        self.busy, self.progress = False, None
        self.changed()
        self.nav.go(HOME)
        return True

    def _on_progress(self, step: SyncProgress) -> None:
        self.progress = step.fraction
        self.changed()


class UnlockViewModel(Observable):
    """Unlock with the PIN; wrong PINs and the lockout delay are explained."""

    def __init__(self, device: Device, nav: Navigator) -> None:
        super().__init__()
        self.device, self.nav = device, nav
        self.pin = ""
        self.busy = False
        self.error: str | None = None
        #: The PIN that just unlocked is shorter than new PINs may be (set before the PIN-length
        #: rule rose to 6 digits): the app should ask for a new PIN (Settings → change PIN).
        self.new_pin_needed = False
        self.notice: str | None = {
            "revoked": tr("ui.unlock.wiped"),
            "retired": tr("ui.unlock.retired"),
        }.get(device.wiped_reason or "")
        #: a practice server's phone: the 演练 banner shows here too, before the PIN
        self.practice = device.practice

    def submit(self) -> bool:
        self.busy, self.error = True, None
        self.changed()
        try:
            self.device.unlock(self.pin)
        except LinliError as exc:
            self.busy, self.pin = False, ""
            self.error = error_text(exc)
            self.changed()
            return False
        store = self.device.store
        self.new_pin_needed = bool(store is not None and store.needs_new_pin)
        self.busy, self.pin = False, ""
        self.changed()
        # a PIN from before the 6-digit rule: straight to Settings, where the form asks for a new one
        self.nav.go(SETTINGS if self.new_pin_needed else HOME)
        return True
