"""`[notify]` settings: read from secrets.toml, documented in secrets.example.toml with their defaults."""

from __future__ import annotations

import re
import tomllib

import pytest
from conftest import ROOT

from core.settings import NotifyLeader, NotifySettings, load_settings, notify_settings


def _example_notify_section() -> dict:
    text = (ROOT / ".streamlit" / "secrets.example.toml").read_text(encoding="utf-8")
    section = text[text.index("# [notify]"):]
    lines = [re.sub(r"^# ?", "", line) for line in section.splitlines()
             if line.startswith("# [") or (line.startswith("# ") and "=" in line.split("#")[1])]
    return tomllib.loads("\n".join(lines))["notify"]


def test_the_example_documents_every_notify_setting_with_its_default():
    example = _example_notify_section()
    defaults = NotifySettings()
    for key in ("send_on_holidays", "top_opds", "max_listed", "max_retries", "backoff_seconds",
                "max_backoff_seconds", "stale_claim_minutes"):
        assert example[key] == getattr(defaults, key), key
    for table, channel in (("email", defaults.email), ("webhook", defaults.webhook)):
        assert set(example[table]) == set(channel.__dataclass_fields__), table
    assert set(example["leaders"][0]) == {"name", "email", "whatsapp"}


def test_notify_settings_are_read_from_secrets_toml(tmp_path, monkeypatch):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[notify]\ndashboard_url = "https://dasbor.example.go.id"\nsend_on_holidays = true\n'
                       '[notify.email]\nhost = "smtp.example.go.id"\nsender = "d@example.go.id"\npassword = "rahasia"\n'
                       '[notify.webhook]\nurl = "https://gw.example.go.id/send"\nto_field = "phone"\n'
                       '[[notify.leaders]]\nname = "Bupati"\nwhatsapp = "0812"\n')
    monkeypatch.setenv("DASHBOARD_SECRETS", str(secrets))
    notify = load_settings().notify
    assert notify.dashboard_url == "https://dasbor.example.go.id" and notify.send_on_holidays is True
    assert notify.email.configured and notify.email.port == 587 and notify.email.starttls is True
    assert notify.webhook.configured and notify.webhook.to_field == "phone"
    assert notify.leaders == (NotifyLeader("Bupati", "", "0812"),)
    assert "rahasia" not in repr(load_settings())  # secrets stay out of logs and cache keys


def test_nothing_configured_means_no_channel_no_leader_no_link():
    notify = load_settings().notify
    assert not notify.email.configured and not notify.webhook.configured
    assert notify.leaders == () and notify.dashboard_url == ""


def test_a_wrongly_typed_notify_setting_names_its_key():
    with pytest.raises(ValueError, match=r"\[notify.email\] port must be a whole number"):
        notify_settings({"email": {"port": "lima"}})
    with pytest.raises(ValueError, match=r"\[notify\] send_on_holidays must be true or false"):
        notify_settings({"send_on_holidays": "ya"})
