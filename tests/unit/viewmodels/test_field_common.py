"""The field screens' shared texts: local times, countdowns, natural order, error and
rejection texts in both languages, and the field catalogs' completeness."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app import i18n
from app.viewmodels.field_common import natural_key, problem_text, rejections_by_record, tel_url
from app.viewmodels.timefmt import countdown_text, local_time, span_text
from sync.errors import ValidationError
from tests.unit.viewmodels.phone import NOW, at

LOCALES = Path(i18n.__file__).with_name("locales")


pytestmark = pytest.mark.usefixtures("field_time")


def test_local_time_is_the_phones_with_a_date_when_not_today() -> None:
    assert local_time(at(0), NOW) == "18:00"
    assert local_time(at(5.5), NOW) == "23:30"
    assert local_time(at(6), NOW) == "04-13 00:00"
    assert local_time(None, NOW) == "" and local_time("yesterday", NOW) == ""


@pytest.mark.parametrize(
    ("span", "zh", "en"),
    [
        (timedelta(minutes=35, seconds=59), "35 分钟", "35 min"),
        (timedelta(hours=2, minutes=10), "2 小时 10 分钟", "2 h 10 min"),
        (timedelta(days=1, hours=12, minutes=5), "1 天 12 小时", "1 d 12 h"),
        (timedelta(seconds=20), "0 分钟", "0 min"),
    ],
)
def test_spans_in_both_languages(
    monkeypatch: pytest.MonkeyPatch, span: timedelta, zh: str, en: str
) -> None:
    assert span_text(span) == zh
    monkeypatch.setattr(i18n, "_current", "en")
    assert span_text(span) == en


def test_countdown_before_and_after_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    assert countdown_text(timedelta(hours=2, minutes=10)) == "还剩 2 小时 10 分钟"
    assert countdown_text(-timedelta(minutes=35)) == "已超时 35 分钟"
    assert countdown_text(None) == ""
    monkeypatch.setattr(i18n, "_current", "en")
    assert countdown_text(timedelta(hours=2, minutes=10)) == "due in 2 h 10 min"
    assert countdown_text(-timedelta(minutes=35)) == "overdue 35 min"


def test_natural_order_of_buildings_and_rooms() -> None:
    names = ["10栋", "2栋", "1栋", "2栋A"]
    assert sorted(names, key=natural_key) == ["1栋", "2栋", "2栋A", "10栋"]
    assert sorted(["1201", "302", "1102"], key=natural_key) == ["302", "1102", "1201"]


def test_error_text_names_the_field_in_words(monkeypatch: pytest.MonkeyPatch) -> None:
    exc = ValidationError("validation.phone", field="contact")
    assert problem_text(exc).startswith("“联系电话”不是有效的电话号码")
    monkeypatch.setattr(i18n, "_current", "en")
    assert "contact" not in problem_text(exc).split(" ")[0]


def test_rejections_keep_the_latest_per_record_and_skip_dismissed() -> None:
    raw: list[dict[str, Any]] = [
        {"op": "op-1", "code": "op.out_of_scope", "params": {"kind": "assignment"},
         "kind": "assignment", "entity": "as-1"},
        {"op": "op-2", "code": "op.forbidden_role", "params": {}, "kind": "assignment",
         "entity": "as-1"},
        {"op": "op-3", "code": "op.some_future_code", "params": {}, "kind": "request",
         "entity": "rq-1"},
        {"op": "op-4", "code": "op.bad_transition", "params": {"kind": "request", "frm": "new",
         "to": "resolved"}, "kind": "request", "entity": "rq-2"},
        {"broken": True},
    ]  # fmt: skip
    found = rejections_by_record(raw, dismissed=["op-4"], role="volunteer")
    assert set(found) == {("assignment", "as-1"), ("request", "rq-1")}
    latest = found[("assignment", "as-1")]
    assert latest.op_id == "op-2"
    # kind and role fill what the server left out, in words
    assert "志愿者" in latest.text and "任务" in latest.text and "{" not in latest.text
    unknown = found[("request", "rq-1")].text
    assert "op.some_future_code" in unknown and unknown.startswith("服务器未接受这项修改：")


def test_tel_links_dial_digits_only() -> None:
    assert tel_url("0755-1234 5678") == "tel:0755-12345678"
    assert tel_url("+86 138 0000 0000") == "tel:+8613800000000"


def test_field_catalogs_are_complete_in_both_languages() -> None:
    zh = json.loads((LOCALES / "zh-CN" / "field.json").read_text(encoding="utf-8"))
    en = json.loads((LOCALES / "en" / "field.json").read_text(encoding="utf-8"))
    assert zh.keys() == en.keys()
    for key in zh:
        assert key.startswith("ui.field."), key
        assert zh[key].strip() and en[key].strip(), key
        params = set(re.findall(r"{(\w+)}", zh[key]))
        assert params == set(re.findall(r"{(\w+)}", en[key])), key
    root = Path(__file__).resolve().parents[3]
    used: set[str] = set()
    for path in [*root.glob("app/viewmodels/*.py"), *root.glob("app/ui/views/field/*.py")]:
        used |= set(re.findall(r'"(ui\.field\.[a-z_.0-9]+)"', path.read_text(encoding="utf-8")))
    assert used, "no field keys found in the sources"
    assert used - zh.keys() == set()


def test_local_time_takes_datetimes_and_shows_the_date_when_asked() -> None:
    when = datetime(2022, 4, 1, 2, 5, tzinfo=UTC)
    now = datetime(2022, 4, 1, 3, 0, tzinfo=UTC)
    assert local_time(when, now) == "10:05"
    assert local_time(when, now, with_date=True) == "04-01 10:05"
    assert local_time("2022-03-31T02:05:00Z", now) == "03-31 10:05"
