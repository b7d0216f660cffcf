"""The provider registry: plain data, resolved only when a provider is asked for."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest
from flask import Flask

from crm.providers.console import ConsoleProvider
from crm.providers.registry import PROVIDERS, provider_for


def test_importing_the_registry_loads_no_backend():
    # A fresh interpreter: this one may have imported the backends for other tests.
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, crm.providers.registry; "
            "print(*sorted(m for m in sys.modules if m.startswith('crm.providers.')))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert loaded == ["crm.providers.base", "crm.providers.registry"]


@pytest.mark.parametrize("name", sorted(PROVIDERS))
def test_each_entry_names_a_provider_of_that_name(name):
    provider = pkgutil.resolve_name(PROVIDERS[name])
    assert provider.name == name and callable(provider.from_config)


def test_the_console_provider_by_default(tmp_path):
    app = Flask(__name__)
    app.config.update(CRM_SMS_PROVIDER="console", CRM_SMS_CONSOLE_PATH=str(tmp_path / "sms"))
    provider = provider_for(app)
    assert isinstance(provider, ConsoleProvider) and provider.path == tmp_path / "sms"


def test_an_unknown_provider_is_refused_with_the_choices():
    app = Flask(__name__)
    app.config.update(CRM_SMS_PROVIDER="carrier-pigeon")
    with pytest.raises(RuntimeError, match=r"use one of \['aliyun', 'console', 'tencent', "):
        provider_for(app)
