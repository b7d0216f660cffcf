"""Alibaba Cloud SMS (阿里云短信, Dysmsapi 2017-05-25) through its official SDK.

Sending: ``SendSms`` with the configured ``SignName`` and ``TemplateCode``. The template has a
single parameter, ``content``, that carries the whole message: register a template whose text
is ``${content}``, and ``TemplateParam`` is ``{"content": <body>}``. Alibaba puts the
signature (【SignName】) in front of the message itself, so a leading 【…】 in our body is
removed before sending. Our idempotency key travels as ``OutId``; the returned ``BizId`` is
the provider's message id.

Lookup after a crash: ``QuerySendDetails`` lists what went to one number on one day (China
time), each record with the ``OutId`` it was sent under. A record with our key means Alibaba
has the message (SENT; the records carry no ``BizId``, so none is recorded). No such record
proves nothing — records appear with a delay, and the send may lie outside the days asked
about — so the answer is then UNKNOWN, never NOT_SENT.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_dysmsapi20170525.models import QuerySendDetailsRequest, SendSmsRequest
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
from alibabacloud_tea_openapi.utils_models import Config
from Tea.exceptions import TeaException

from crm.providers.base import Delivery, LookupResult, ProviderError
from crm.providers.sdk import (
    CONNECT_TIMEOUT,
    READ_TIMEOUT,
    required,
    split_endpoint,
    without_signature,
)

TEMPLATE_PARAM = "content"
CHINA = ZoneInfo("Asia/Shanghai")  # the zone of QuerySendDetails' SendDate
LOOKUP_DAYS = 3  # today and the two days before
PAGE_SIZE = 50  # the most QuerySendDetails returns per page
MAX_PAGES = 20
_URL = re.compile(r"with url: \S+")

# Errors about this message itself (number, template, signature, content): sending it again
# gives the same answer. Anything else — flow control (isv.BUSINESS_LIMIT_CONTROL,
# isv.DAY_LIMIT_CONTROL), system errors (isp.SYSTEM_ERROR), 5xx, throttling, network,
# balance or credentials — may pass, and the message is tried again later.
PERMANENT_CODES = frozenset(
    {
        "isv.MOBILE_NUMBER_ILLEGAL",
        "isv.MOBILE_COUNT_OVER_LIMIT",
        "isv.DOMESTIC_NUMBER_NOT_SUPPORTED",
        "isv.SMS_TEMPLATE_ILLEGAL",
        "isv.TEMPLATE_MISSING_PARAMETERS",
        "isv.SMS_SIGNATURE_ILLEGAL",
        "isv.SMS_SIGN_ILLEGAL",
        "isv.SIGN_STATE_ILLEGAL",
        "isv.SMS_SIGNATURE_SCENE_ILLEGAL",
        "isv.EXTEND_CODE_ERROR",
        "isv.INVALID_PARAMETERS",
        "isv.INVALID_JSON_PARAM",
        "isv.PARAM_LENGTH_LIMIT",
        "isv.PARAM_NOT_SUPPORT_URL",
        "isv.BLACK_KEY_CONTROL_LIMIT",
        "isv.SMS_CONTENT_ILLEGAL",
    }
)


def phone_number(to: str) -> str:
    """Alibaba's form of an E.164 number: 11 digits for the mainland, else country code and
    number without the plus (the form QuerySendDetails requires)."""
    if to.startswith("+86"):
        return to[3:]
    return to.removeprefix("+")


class AliyunProvider:
    name = "aliyun"

    def __init__(
        self,
        *,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        template_code: str,
        endpoint: str = "dysmsapi.aliyuncs.com",
        clock: Callable[[], datetime] | None = None,
    ):
        scheme, host = split_endpoint(endpoint)
        self.client = Client(
            Config(
                access_key_id=access_key_id,
                access_key_secret=access_key_secret,
                endpoint=host,
                protocol=scheme,
                connect_timeout=CONNECT_TIMEOUT * 1000,
                read_timeout=READ_TIMEOUT * 1000,
            )
        )
        self.sign_name = sign_name
        self.template_code = template_code
        self.clock = clock or (lambda: datetime.now(UTC))

    @classmethod
    def from_config(cls, config: Mapping) -> AliyunProvider:
        return cls(
            access_key_id=required(config, "CRM_ALIYUN_ACCESS_KEY_ID", cls.name),
            access_key_secret=required(config, "CRM_ALIYUN_ACCESS_KEY_SECRET", cls.name),
            sign_name=required(config, "CRM_ALIYUN_SIGN_NAME", cls.name),
            template_code=required(config, "CRM_ALIYUN_TEMPLATE_CODE", cls.name),
            endpoint=required(config, "CRM_ALIYUN_ENDPOINT", cls.name),
        )

    def _call(self, method, request):
        """The response body of one API call; ``ProviderError`` unless its Code is OK."""
        try:
            body = method(request).body
        except AlibabaCloudException as error:  # an HTTP 4xx or 5xx answer
            raise ProviderError(
                f"Alibaba Cloud SMS: {error.code}: {error.message}",
                permanent=error.code in PERMANENT_CODES,
            ) from error
        except TeaException as error:  # no answer: connection refused, timeout
            # The SDK's message quotes the URL, whose query holds the number and the text.
            cause = getattr(error, "inner_exception", None) or error
            reason = _URL.sub("with url: …", str(getattr(cause, "message", cause)))
            raise ProviderError(
                f"Alibaba Cloud SMS unreachable: {reason}", uncertain=True
            ) from error
        if body.code != "OK":
            raise ProviderError(
                f"Alibaba Cloud SMS: {body.code}: {body.message}",
                permanent=body.code in PERMANENT_CODES,
            )
        return body

    def send(self, to: str, body: str, key: str) -> str:
        request = SendSmsRequest(
            phone_numbers=phone_number(to),
            sign_name=self.sign_name,
            template_code=self.template_code,
            template_param=json.dumps(
                {TEMPLATE_PARAM: without_signature(body)}, ensure_ascii=False
            ),
            out_id=key,
        )
        return self._call(self.client.send_sms, request).biz_id

    def lookup(self, key: str, to: str) -> Delivery:
        """SENT if a message went to ``to`` under ``key`` in the last few days, else UNKNOWN.
        A failure that may pass (network, throttling) is raised, so it is asked again."""
        today = self.clock().astimezone(CHINA).date()
        for days_ago in range(LOOKUP_DAYS):
            send_date = (today - timedelta(days=days_ago)).strftime("%Y%m%d")
            for page in range(1, MAX_PAGES + 1):
                request = QuerySendDetailsRequest(
                    phone_number=phone_number(to),
                    send_date=send_date,
                    page_size=PAGE_SIZE,
                    current_page=page,
                )
                try:
                    body = self._call(self.client.query_send_details, request)
                except ProviderError as error:
                    if error.permanent:
                        return Delivery(LookupResult.UNKNOWN)
                    raise
                dtos = body.sms_send_detail_dtos
                records = (dtos.sms_send_detail_dto if dtos else None) or []
                if any(record.out_id == key for record in records):
                    return Delivery(LookupResult.SENT)
                if len(records) < PAGE_SIZE or page * PAGE_SIZE >= int(body.total_count or 0):
                    break
        return Delivery(LookupResult.UNKNOWN)
