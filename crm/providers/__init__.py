"""SMS providers behind one small interface (``SmsProvider``), chosen by configuration.

``console`` (the embedded default) writes each message as a line to a file; ``aliyun``,
``tencent`` and ``twilio`` call those services through their official SDKs.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from crm.providers.base import Delivery, LookupResult, ProviderError, SmsProvider

__all__ = ["Delivery", "LookupResult", "ProviderError", "SmsProvider", "provider_for"]


def _console(app: Flask) -> SmsProvider:
    from crm.providers.console import ConsoleProvider

    return ConsoleProvider(app.config["CRM_SMS_CONSOLE_PATH"])


# Each backend module registers a factory here (name -> app -> provider).
FACTORIES: dict[str, Callable[[Flask], SmsProvider]] = {"console": _console}


def provider_for(app: Flask) -> SmsProvider:
    """The provider the configuration names (``CRM_SMS_PROVIDER``)."""
    name = app.config["CRM_SMS_PROVIDER"]
    if name not in FACTORIES:
        from crm.providers import sdk  # noqa: F401  (registers the SDK backends)
    try:
        factory = FACTORIES[name]
    except KeyError:
        raise RuntimeError(
            f"Unknown CRM_SMS_PROVIDER {name!r}: use one of {sorted(FACTORIES)}"
        ) from None
    return factory(app)
