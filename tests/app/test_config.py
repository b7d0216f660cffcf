import pytest

from config import ConfigError, load_config
from crm import create_app


def test_production_refuses_to_start_without_a_real_secret():
    with pytest.raises(ConfigError, match="CRM_SECRET_KEY"):
        load_config("production", {"CRM_DATABASE_URL": "postgresql://x/y"})
    with pytest.raises(ConfigError, match="CRM_SECRET_KEY"):
        load_config("production", {"CRM_DATABASE_URL": "postgresql://x/y", "CRM_SECRET_KEY": "x"})
    with pytest.raises(ConfigError, match="CRM_DATABASE_URL"):
        load_config("production", {"CRM_SECRET_KEY": "s" * 40})
    settings = load_config(
        "production", {"CRM_SECRET_KEY": "s" * 40, "CRM_DATABASE_URL": "postgresql://x/y"}
    )
    assert settings["SESSION_COOKIE_SECURE"] is True


def test_database_url_comes_from_the_environment(monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    monkeypatch.setenv("CRM_DATABASE_URL", url)
    assert create_app("development").config["SQLALCHEMY_DATABASE_URI"] == url


def test_default_database_is_sqlite_under_instance(monkeypatch):
    monkeypatch.delenv("CRM_DATABASE_URL", raising=False)
    app = create_app("development")
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("instance/crm.sqlite3")


def test_unknown_profile_is_an_error():
    with pytest.raises(ConfigError):
        load_config("staging", {})
