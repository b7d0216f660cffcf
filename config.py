"""Settings for the CRM, read from the environment when the app is created.

``CRM_CONFIG`` picks the profile (development, production, testing);
``CRM_DATABASE_URL`` and ``CRM_SECRET_KEY`` override the defaults. Nothing here
runs at import time: ``load_config`` is called by ``crm.create_app``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

DEV_SECRET = "dev-only-secret-do-not-use-in-production"


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says what to set."""


def _base(environ: Mapping[str, str]) -> dict:
    return {
        "SECRET_KEY": environ.get("CRM_SECRET_KEY", DEV_SECRET),
        # None means: SQLite under the app's instance folder (see crm.create_app).
        "SQLALCHEMY_DATABASE_URI": environ.get("CRM_DATABASE_URL") or None,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "BABEL_DEFAULT_LOCALE": "zh_CN",
        "BABEL_DEFAULT_TIMEZONE": environ.get("CRM_TIMEZONE", "Asia/Shanghai"),
        "CRM_LANGUAGES": ("zh_CN", "en"),
        # Phones without a country code are read as mainland numbers.
        "CRM_PHONE_REGION": "CN",
        "CRM_PAGE_SIZE": 50,
        # Login throttling: this many failures for one username (or one address)
        # within the window lock further attempts until the window has passed.
        "CRM_LOGIN_MAX_FAILURES": 5,
        "CRM_LOGIN_WINDOW_MINUTES": 15,
        # Behind a reverse proxy, how many hops of X-Forwarded-For to trust (0: none).
        "CRM_PROXY_HOPS": int(environ.get("CRM_PROXY_HOPS", "0") or 0),
        # Experience planning (seed 004). Per-customer cost limits over a rolling 12 months,
        # in yuan, per quadrant: a year of the default cadence fits with room for the
        # planning horizon and a few discretionary experiences. Admins may change them.
        "CRM_COST_LIMITS": {
            "develop": "300.00",
            "maintain": "2000.00",
            "cultivate": "20000.00",
            "pamper": "80000.00",
        },
        # How far a recorded response moves willingness (0–100), before staff adjust it.
        "CRM_RESPONSE_DELTAS": {
            "enthusiastic": 10,
            "positive": 5,
            "neutral": 0,
            "negative": -5,
            "no_response": -2,
        },
        # Follow-up (seed 003): call-backs a staff member makes a day, at least; the seed's
        # targets in percent; the days within which a complaint gets a definite answer.
        "CRM_CALLBACK_DAILY_QUOTA": int(environ.get("CRM_CALLBACK_DAILY_QUOTA", "20") or 20),
        "CRM_FOLLOWUP_TARGETS": {
            "policy_conversion": "20",
            "deposit_conversion": "30",
            "universal_retention": "60",
            "satisfaction": "80",
        },
        "CRM_COMPLAINT_SLA_DAYS": 7,
        # A complaint lowers willingness, a referral given raises the referrer's (seed 004).
        "CRM_COMPLAINT_DELTA": -10,
        "CRM_REFERRAL_DELTA": 5,
        # The rolling planner fills each customer's plan this many days ahead.
        "CRM_PLAN_HORIZON_DAYS": int(environ.get("CRM_PLAN_HORIZON_DAYS", "28") or 28),
        # Outreach (DESIGN.md "Outreach and the scheduler").
        "CRM_SMS_PROVIDER": environ.get("CRM_SMS_PROVIDER", "console"),
        # The console provider's file; None: sms-console.jsonl in the instance folder.
        "CRM_SMS_CONSOLE_PATH": environ.get("CRM_SMS_CONSOLE_PATH") or None,
        # The SDK providers (crm/providers/). Each sends by one approved template whose single
        # parameter carries the whole message; the provider adds the signature itself. An
        # endpoint may be a host (HTTPS) or a URL (http://127.0.0.1:… points at a test server).
        # Alibaba Cloud SMS (aliyun): a RAM user's access key; template text ${content}.
        "CRM_ALIYUN_ACCESS_KEY_ID": environ.get("CRM_ALIYUN_ACCESS_KEY_ID", ""),
        "CRM_ALIYUN_ACCESS_KEY_SECRET": environ.get("CRM_ALIYUN_ACCESS_KEY_SECRET", ""),
        "CRM_ALIYUN_SIGN_NAME": environ.get("CRM_ALIYUN_SIGN_NAME", ""),
        "CRM_ALIYUN_TEMPLATE_CODE": environ.get("CRM_ALIYUN_TEMPLATE_CODE", ""),
        "CRM_ALIYUN_ENDPOINT": environ.get("CRM_ALIYUN_ENDPOINT") or "dysmsapi.aliyuncs.com",
        # Tencent Cloud SMS (tencent): an API key and the SMS application's SdkAppId;
        # template text {1}.
        "CRM_TENCENT_SECRET_ID": environ.get("CRM_TENCENT_SECRET_ID", ""),
        "CRM_TENCENT_SECRET_KEY": environ.get("CRM_TENCENT_SECRET_KEY", ""),
        "CRM_TENCENT_SDK_APP_ID": environ.get("CRM_TENCENT_SDK_APP_ID", ""),
        "CRM_TENCENT_SIGN_NAME": environ.get("CRM_TENCENT_SIGN_NAME", ""),
        "CRM_TENCENT_TEMPLATE_ID": environ.get("CRM_TENCENT_TEMPLATE_ID", ""),
        "CRM_TENCENT_REGION": environ.get("CRM_TENCENT_REGION") or "ap-guangzhou",
        "CRM_TENCENT_ENDPOINT": environ.get("CRM_TENCENT_ENDPOINT") or "sms.tencentcloudapi.com",
        # Twilio (twilio): the sender is a phone number or a Messaging Service SID (MG…); the
        # body goes as written, signature and opt-out line included.
        "CRM_TWILIO_ACCOUNT_SID": environ.get("CRM_TWILIO_ACCOUNT_SID", ""),
        "CRM_TWILIO_AUTH_TOKEN": environ.get("CRM_TWILIO_AUTH_TOKEN", ""),
        "CRM_TWILIO_FROM": environ.get("CRM_TWILIO_FROM", ""),
        "CRM_TWILIO_BASE_URL": environ.get("CRM_TWILIO_BASE_URL") or "https://api.twilio.com",
        # Staff reminders by e-mail: SMTP when CRM_SMTP_HOST is set, else a file in the
        # instance folder (mail-console.jsonl) like the console SMS provider.
        "CRM_SMTP_HOST": environ.get("CRM_SMTP_HOST", ""),
        "CRM_SMTP_PORT": int(environ.get("CRM_SMTP_PORT", "587") or 587),
        "CRM_SMTP_USER": environ.get("CRM_SMTP_USER", ""),
        "CRM_SMTP_PASSWORD": environ.get("CRM_SMTP_PASSWORD", ""),
        "CRM_SMTP_TLS": environ.get("CRM_SMTP_TLS", "1") not in ("0", "false", "no"),
        "CRM_MAIL_FROM": environ.get("CRM_MAIL_FROM", "crm@localhost"),
        "CRM_MAIL_CONSOLE_PATH": environ.get("CRM_MAIL_CONSOLE_PATH") or None,
        "CRM_SMS_SIGNATURE": environ.get("CRM_SMS_SIGNATURE", "【银保服务】"),
        # The opt-out line may differ per provider: CRM_<PROVIDER>_OPT_OUT_LINE wins.
        "CRM_SMS_OPT_OUT_LINE": environ.get(
            f"CRM_{environ.get('CRM_SMS_PROVIDER', 'console').upper()}_OPT_OUT_LINE",
            environ.get("CRM_SMS_OPT_OUT_LINE", "拒收请回复R"),
        ),
        "CRM_SMS_LOCALE": environ.get("CRM_SMS_LOCALE", "zh_CN"),
        # Marketing SMS go out only between these local times, at most this many per
        # customer in any 7 days.
        "CRM_SMS_WINDOW": (
            environ.get("CRM_SMS_WINDOW_START", "09:00"),
            environ.get("CRM_SMS_WINDOW_END", "20:00"),
        ),
        "CRM_SMS_WEEKLY_CAP": int(environ.get("CRM_SMS_WEEKLY_CAP", "2") or 2),
        # Shared secret the provider's inbound-reply callback presents (empty: endpoint off).
        "CRM_SMS_INBOUND_TOKEN": environ.get("CRM_SMS_INBOUND_TOKEN", ""),
        # Messages claimed per dispatch transaction, and how long a message may sit in
        # "sending" before it is taken for a crashed dispatcher's and reconciled.
        "CRM_DISPATCH_BATCH": 1000,
        "CRM_SENDING_STALE_SECONDS": 300,
        # The scheduler process (`flask crm scheduler`). The active one holds a lease in the
        # database for this many seconds and renews it this often; a second process stands by
        # and asks for the lease this often, so it takes over at most lease + poll seconds
        # after the active one stopped renewing (a crash). Tests shorten all three.
        "CRM_SCHEDULER_LEASE_SECONDS": float(environ.get("CRM_SCHEDULER_LEASE_SECONDS") or 30),
        "CRM_SCHEDULER_RENEW_SECONDS": float(environ.get("CRM_SCHEDULER_RENEW_SECONDS") or 10),
        "CRM_SCHEDULER_STANDBY_POLL_SECONDS": float(
            environ.get("CRM_SCHEDULER_STANDBY_POLL_SECONDS") or 5
        ),
        # Long work queued by web requests (crm.core.jobs): the active scheduler looks for it
        # this often, and re-tiers this many customers per transaction.
        "CRM_JOB_POLL_SECONDS": float(environ.get("CRM_JOB_POLL_SECONDS") or 2),
        "CRM_RETIER_CHUNK": int(environ.get("CRM_RETIER_CHUNK") or 200_000),
        # A handover of more customers than this is queued for the scheduler process rather
        # than run inside the request (crm/services/management/handover_jobs.py).
        "CRM_HANDOVER_INLINE": int(environ.get("CRM_HANDOVER_INLINE") or 2_000),
        # A signed-in session ends after this many minutes without a request, and this many
        # hours after log-in whatever happens (crm.services.accounts.sessions).
        "CRM_SESSION_IDLE_MINUTES": int(environ.get("CRM_SESSION_IDLE_MINUTES") or 30),
        "CRM_SESSION_MAX_HOURS": int(environ.get("CRM_SESSION_MAX_HOURS") or 12),
        # De-identified sharing with an insurer partner (crm.services.transfer.partner_share):
        # each partner's pseudonym key is derived from this secret and the partner's name, so
        # the same customer reads alike in every file to one partner and differently to
        # another. 32+ random characters, kept by the bank only; changing it changes every
        # pseudonym. Empty: no export.
        "CRM_SHARE_SECRET": environ.get("CRM_SHARE_SECRET", ""),
        # Strict-Transport-Security's max-age in seconds; 0: not sent (production sends it).
        "CRM_HSTS_SECONDS": 0,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        # WTForms' messages are translated by crm.forms.Form, with a cache per language.
        "WTF_I18N_ENABLED": False,
    }


def load_config(name: str | None = None, environ: Mapping[str, str] | None = None) -> dict:
    """Return the settings of profile ``name`` (default: ``$CRM_CONFIG`` or development)."""
    environ = os.environ if environ is None else environ
    name = name or environ.get("CRM_CONFIG", "development")
    settings = _base(environ)
    if name == "development":
        settings["DEBUG"] = False
    elif name == "testing":
        settings.update(
            TESTING=True,
            WTF_CSRF_ENABLED=False,
            SECRET_KEY="testing",
            # Hashing strength is not under test; the suite logs in hundreds of times.
            CRM_PASSWORD_METHOD="pbkdf2:sha256:1000",
        )
    elif name == "production":
        secret = environ.get("CRM_SECRET_KEY", "")
        if len(secret) < 32 or secret == DEV_SECRET:
            raise ConfigError(
                "CRM_SECRET_KEY must be set to a random string of at least 32 characters in "
                "production, for example the output of: "
                "python -c 'import secrets; print(secrets.token_hex(32))'"
            )
        if not environ.get("CRM_DATABASE_URL"):
            raise ConfigError("CRM_DATABASE_URL must be set in production.")
        settings.update(
            SESSION_COOKIE_SECURE=True,
            PREFERRED_URL_SCHEME="https",
            # Browsers then refuse plain HTTP to this host for a year.
            CRM_HSTS_SECONDS=365 * 24 * 3600,
        )
    else:
        raise ConfigError(f"Unknown CRM_CONFIG {name!r}: use development, production or testing.")
    return settings
