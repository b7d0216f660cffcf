"""Which provider ``CRM_SMS_PROVIDER`` names, as plain data resolved when one is asked for.

Each entry is ``"module:Class"``; the class builds itself from the app's settings
(``from_config``). Nothing is imported until a provider is made, so choosing ``console``
never loads a cloud SDK, and importing this module registers nothing.
"""

from __future__ import annotations

import pkgutil

from flask import Flask

from crm.providers.base import SmsProvider

PROVIDERS: dict[str, str] = {
    "console": "crm.providers.console:ConsoleProvider",
    "aliyun": "crm.providers.aliyun:AliyunProvider",
    "tencent": "crm.providers.tencent:TencentProvider",
    "twilio": "crm.providers.twilio:TwilioProvider",
}


def provider_for(app: Flask) -> SmsProvider:
    """The provider the configuration names (``CRM_SMS_PROVIDER``)."""
    name = app.config["CRM_SMS_PROVIDER"]
    try:
        ref = PROVIDERS[name]
    except KeyError:
        raise RuntimeError(
            f"Unknown CRM_SMS_PROVIDER {name!r}: use one of {sorted(PROVIDERS)}"
        ) from None
    return pkgutil.resolve_name(ref).from_config(app.config)
