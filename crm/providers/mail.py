"""E-mail for staff reminders: SMTP where configured, else a file like the console SMS provider.

Mailers have the SMS providers' interface (``send``, ``lookup``), so the outbox dispatches
e-mail rows the same way.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from flask import Flask

from crm.providers.base import Delivery, LookupResult, ProviderError
from crm.providers.console import ConsoleProvider


class ConsoleMailer(ConsoleProvider):
    name = "console-mail"


class SmtpMailer:
    name = "smtp"

    def __init__(
        self, host: str, port: int, sender: str, user: str = "", password: str = "", tls=True
    ):
        self.host, self.port, self.sender = host, port, sender
        self.user, self.password, self.tls = user, password, tls

    def send(self, to: str, body: str, key: str) -> str:
        message = EmailMessage()
        title, _, rest = body.partition("\n")
        message["Subject"] = title.strip()[:200]
        message["From"] = self.sender
        message["To"] = to
        message_id = make_msgid(idstring=key.replace(":", "."))
        message["Message-ID"] = message_id
        message.set_content(rest.strip() or title)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=30) as smtp:
                if self.tls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password)
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            raise ProviderError(f"SMTP refused the recipient: {error}", permanent=True) from error
        except (smtplib.SMTPException, OSError) as error:
            raise ProviderError(f"SMTP: {error}") from error
        return message_id

    def lookup(self, key: str, to: str) -> Delivery:
        return Delivery(LookupResult.UNKNOWN)  # SMTP cannot be asked what it delivered


def mailer_for(app: Flask):
    config = app.config
    if config.get("CRM_SMTP_HOST"):
        return SmtpMailer(
            config["CRM_SMTP_HOST"],
            int(config["CRM_SMTP_PORT"]),
            config["CRM_MAIL_FROM"],
            config.get("CRM_SMTP_USER", ""),
            config.get("CRM_SMTP_PASSWORD", ""),
            tls=config.get("CRM_SMTP_TLS", True),
        )
    return ConsoleMailer(config["CRM_MAIL_CONSOLE_PATH"])
