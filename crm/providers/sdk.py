"""What the SDK backends (``aliyun``, ``tencent``, ``twilio``) share: timeouts, required
settings, endpoints given as hosts or URLs, and the signature the mainland providers add.

Each backend lives in its own module, named in ``registry`` and imported only when chosen, so
an app on the console provider never loads a cloud SDK.

Every backend is configured from the app's settings (``CRM_ALIYUN_*``, ``CRM_TENCENT_*``,
``CRM_TWILIO_*`` in ``config.py``); a required setting left empty stops the provider from
being created with a ``RuntimeError`` that names the variable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

# How long a provider may take to accept a connection and to answer, in seconds.
CONNECT_TIMEOUT = 5
READ_TIMEOUT = 10

_LEADING_SIGNATURE = re.compile(r"^\s*【[^】]*】")


def required(config: Mapping, name: str, provider: str) -> str:
    """The value of setting ``name``; a clear error if it is not set."""
    value = str(config.get(name) or "").strip()
    if not value:
        raise RuntimeError(f"CRM_SMS_PROVIDER={provider} needs {name}: set it in the environment.")
    return value


def without_signature(body: str) -> str:
    """The body without a leading 【…】 signature.

    Mainland providers put the signature (their ``SignName``) in front of every message
    themselves; ours, rendered into marketing bodies, would otherwise appear twice."""
    return _LEADING_SIGNATURE.sub("", body, count=1)


def split_endpoint(endpoint: str) -> tuple[str, str]:
    """``(scheme, host[:port])`` of an endpoint given as a host or as a URL.

    A bare host means HTTPS; ``http://127.0.0.1:8080`` points a client at a local server
    (the tests' fake provider)."""
    endpoint = endpoint.strip()
    if "://" not in endpoint:
        return "https", endpoint.strip("/")
    parts = urlsplit(endpoint)
    return parts.scheme.lower(), parts.netloc
