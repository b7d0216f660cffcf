"""Twilio Programmable Messaging through its official SDK.

Sending: ``Messages.create`` with the body as it stands (signature and opt-out line
included: Twilio adds nothing). ``CRM_TWILIO_FROM`` is the sending number, or a Messaging
Service SID (``MG…``). The returned message ``sid`` is the provider's message id.
``CRM_TWILIO_BASE_URL`` replaces ``https://api.twilio.com`` (the tests point it at a local
server).

Lookup: Twilio keeps no field of ours on a message — there is nothing like an ``OutId`` to
carry the idempotency key, and listing messages by number and date cannot tell our message
from another with the same text — so it cannot say whether a given send reached it: UNKNOWN,
and a person reconciles.
"""

from __future__ import annotations

from collections.abc import Mapping

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from crm.providers.base import Delivery, LookupResult, ProviderError
from crm.providers.sdk import READ_TIMEOUT, required


class TwilioProvider:
    name = "twilio"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        sender: str,
        base_url: str = "https://api.twilio.com",
    ):
        self.client = Client(
            account_sid, auth_token, http_client=TwilioHttpClient(timeout=READ_TIMEOUT)
        )
        # The SDK builds every Messages URL from its API domain's base URL.
        self.client.api.base_url = base_url.rstrip("/")
        if sender.startswith("MG"):
            self.sender = {"messaging_service_sid": sender}
        else:
            self.sender = {"from_": sender}

    @classmethod
    def from_config(cls, config: Mapping) -> TwilioProvider:
        return cls(
            account_sid=required(config, "CRM_TWILIO_ACCOUNT_SID", cls.name),
            auth_token=required(config, "CRM_TWILIO_AUTH_TOKEN", cls.name),
            sender=required(config, "CRM_TWILIO_FROM", cls.name),
            base_url=required(config, "CRM_TWILIO_BASE_URL", cls.name),
        )

    def send(self, to: str, body: str, key: str) -> str:
        try:
            message = self.client.messages.create(to=to, body=body, **self.sender)
        except TwilioRestException as error:
            # 400 is Twilio's answer about this message (21211 invalid 'To' number, 21614 not
            # a mobile number, 21610 unsubscribed recipient, 21606 unusable 'From' …):
            # permanent. 429 (too many requests), 5xx and credential errors may pass.
            raise ProviderError(
                f"Twilio: {error.code or error.status}: {error.msg}",
                permanent=error.status == 400,
            ) from error
        except (TwilioException, requests.RequestException) as error:
            raise ProviderError(f"Twilio unreachable: {error}", uncertain=True) from error
        return message.sid

    def lookup(self, key: str, to: str) -> Delivery:
        # See the module's docstring: Twilio cannot be asked about our key.
        return Delivery(LookupResult.UNKNOWN)
