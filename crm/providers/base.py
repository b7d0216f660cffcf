"""The interface every SMS provider implements."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class ProviderError(Exception):
    """The provider did not take the message. ``permanent``: retrying will not help
    (a bad number, a refused template); otherwise it may be tried again later.
    ``uncertain``: no answer came (a timeout, a dropped connection), so the provider may
    have taken it after all; the dispatcher then asks before anything is sent again."""

    def __init__(self, message: str, *, permanent: bool = False, uncertain: bool = False):
        super().__init__(message)
        self.permanent = permanent
        self.uncertain = uncertain


class LookupResult(StrEnum):
    SENT = "sent"  # the provider has the message
    NOT_SENT = "not_sent"  # the provider is sure it never received it
    UNKNOWN = "unknown"  # the provider cannot say


@dataclass(frozen=True)
class Delivery:
    result: LookupResult
    provider_message_id: str | None = None


class SmsProvider(Protocol):
    name: str

    def send(self, to: str, body: str, key: str) -> str:
        """Send one message; return the provider's id for it, or raise ``ProviderError``.
        ``key`` is the outbox idempotency key (passed on where the provider keeps it)."""

    def lookup(self, key: str, to: str) -> Delivery:
        """Whether a message sent under ``key`` reached the provider (after a crash)."""
