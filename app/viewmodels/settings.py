"""``/settings``: language, PIN change, server address, who this phone belongs to, about, lock."""

from __future__ import annotations

from dataclasses import dataclass

from app import i18n
from app.config import app_version
from app.i18n import tr
from app.services.device import META_LANGUAGE, Device
from app.viewmodels.base import Navigator, Observable, error_text
from sync.domain import label
from sync.errors import LinliError
from sync.protocol import PROTOCOL_VERSION

#: (language, the key of its name in the catalogs)
LANGUAGES: tuple[tuple[str, str], ...] = (
    ("zh-CN", "ui.settings.lang_zh"),
    ("en", "ui.settings.lang_en"),
)


@dataclass(frozen=True)
class WhoAmI:
    name: str
    role: str
    team: str
    device_id: str
    member_id: str


@dataclass
class PinForm:
    old: str = ""
    new: str = ""
    again: str = ""


class SettingsViewModel(Observable):
    def __init__(self, device: Device, nav: Navigator) -> None:
        super().__init__()
        self.device, self.nav = device, nav
        self.pin = PinForm()
        self.pin_error: str | None = None
        self.pin_busy = False

    @property
    def pin_renewal_due(self) -> bool:
        """The PIN in use is shorter than new PINs may be: the PIN form asks for a new one."""
        store = self.device.store
        return bool(store is not None and store.needs_new_pin)

    # ------------------------------------------------------------------ language

    @property
    def language(self) -> str:
        return i18n.language()

    @staticmethod
    def languages() -> list[tuple[str, str]]:
        return [(lang, tr(key)) for lang, key in LANGUAGES]

    def set_language(self, lang: str) -> None:
        """Switch at once, keep the choice on the phone, rebuild the screens in it."""
        lang = i18n.set_language(lang)
        store = self.device.store
        if store is not None and store.get_meta(META_LANGUAGE) != lang:
            store.set_meta(META_LANGUAGE, lang)
        self.changed()
        self.nav.refresh()

    # ------------------------------------------------------------------ PIN

    def change_pin(self) -> bool:
        """Check the form and re-key the store under the new PIN (slow: call off the UI thread)."""
        form = self.pin
        problem = None
        if not form.old:
            problem = tr("ui.settings.pin_need_old")
        elif not form.new:
            problem = tr("ui.settings.pin_need_new")
        elif form.new != form.again:
            problem = tr("ui.settings.pin_differ")
        elif form.new == form.old:
            problem = tr("ui.settings.pin_same")
        if problem:
            self.pin_error = problem
            self.changed()
            return False
        self.pin_busy, self.pin_error = True, None
        self.changed()
        try:
            self.device.change_pin(form.old, form.new)
        except LinliError as exc:
            self.pin_busy, self.pin_error = False, error_text(exc)
            self.pin.old = ""
            self.changed()
            return False
        self.pin_busy, self.pin = False, PinForm()
        self.changed()
        self.nav.notify(tr("ui.settings.pin_changed"))
        return True

    # ------------------------------------------------------------------ this phone

    @property
    def server_url(self) -> str:
        identity = self.device.identity
        return (identity.server_url if identity else None) or tr("ui.settings.unknown")

    def who_am_i(self) -> WhoAmI | None:
        identity = self.device.identity
        if identity is None:
            return None
        team = ""
        if identity.team_id:
            record = self.device.get("team", identity.team_id) if self.device.store else None
            team = str(record.get("name") or identity.team_id) if record else identity.team_id
        return WhoAmI(
            name=identity.name,
            role=label("member.role", identity.role, self.language),
            team=team or tr("ui.settings.no_team"),
            device_id=identity.device_id,
            member_id=identity.member_id,
        )

    @staticmethod
    def about() -> str:
        return tr("ui.settings.about_text", version=app_version(), protocol=PROTOCOL_VERSION)

    def lock_now(self) -> None:
        self.device.lock()
        self.nav.go("/unlock")

    def open_sync(self) -> None:
        self.nav.go("/sync")
