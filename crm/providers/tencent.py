"""Tencent Cloud SMS (腾讯云短信, API 3.0, version 2021-01-11) through its official SDK.

Sending: ``SendSms`` with the configured ``SmsSdkAppId``, ``SignName`` and ``TemplateId``. The
template has a single parameter that carries the whole message: register a template whose
text is ``{1}``, and ``TemplateParamSet`` is ``[<body>]``. Tencent puts the signature
(【SignName】) in front of the message itself, so a leading 【…】 in our body is removed
before sending. Our idempotency key travels as ``SessionContext``; the returned ``SerialNo``
is the provider's message id.

Lookup after a crash: ``PullSmsSendStatusByPhoneNumber`` returns the delivery reports for one
number over the last few days, each with the ``SessionContext`` it was sent under. A report
with our key means Tencent has the message (SENT, with its ``SerialNo``). Anything else is
UNKNOWN, never NOT_SENT: reports exist only once the carrier has answered, and Tencent fills
``SessionContext`` in them only on accounts where its support has enabled it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from tencentcloud.common.credential import Credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models
from tencentcloud.sms.v20210111.sms_client import SmsClient

from crm.providers.base import Delivery, LookupResult, ProviderError
from crm.providers.sdk import READ_TIMEOUT, required, split_endpoint, without_signature

LOOKBACK = timedelta(days=3)  # the API keeps reports for 7 days
PULL_LIMIT = 100  # the most one pull returns

# Errors about this message itself (number, template, signature, content): sending it again
# gives the same answer. Anything else — frequency limits (LimitExceeded.*), throttling
# (RequestLimitExceeded), internal errors, non-200 answers (ServerNetworkError), network
# (ClientNetworkError), balance or credentials — may pass, and the message is tried again.
PERMANENT_CODES = frozenset(
    {
        "FailedOperation.PhoneNumberInBlacklist",
        "FailedOperation.PhoneNumberParseFail",
        "FailedOperation.TemplateIncorrectOrUnapproved",
        "FailedOperation.SignatureIncorrectOrUnapproved",
        "FailedOperation.ContainSensitiveWord",
        "UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber",
        "UnsupportedOperation.UnsupportedRegion",
        "InvalidParameter",
        "MissingParameter",
    }
)
# e.g. InvalidParameterValue.IncorrectPhoneNumber, .TemplateParameterFormatError,
# .ContentLengthLimit
PERMANENT_PREFIXES = ("InvalidParameterValue.", "InvalidParameter.", "MissingParameter.")


def is_permanent(code: str) -> bool:
    return code in PERMANENT_CODES or code.startswith(PERMANENT_PREFIXES)


class TencentProvider:
    name = "tencent"

    def __init__(
        self,
        *,
        secret_id: str,
        secret_key: str,
        sdk_app_id: str,
        sign_name: str,
        template_id: str,
        region: str = "ap-guangzhou",
        endpoint: str = "sms.tencentcloudapi.com",
        clock: Callable[[], datetime] | None = None,
    ):
        scheme, host = split_endpoint(endpoint)
        profile = ClientProfile(
            httpProfile=HttpProfile(protocol=scheme, endpoint=host, reqTimeout=READ_TIMEOUT)
        )
        self.client = SmsClient(Credential(secret_id, secret_key), region, profile)
        self.sdk_app_id = sdk_app_id
        self.sign_name = sign_name
        self.template_id = template_id
        self.clock = clock or (lambda: datetime.now(UTC))

    @classmethod
    def from_config(cls, config: Mapping) -> TencentProvider:
        return cls(
            secret_id=required(config, "CRM_TENCENT_SECRET_ID", cls.name),
            secret_key=required(config, "CRM_TENCENT_SECRET_KEY", cls.name),
            sdk_app_id=required(config, "CRM_TENCENT_SDK_APP_ID", cls.name),
            sign_name=required(config, "CRM_TENCENT_SIGN_NAME", cls.name),
            template_id=required(config, "CRM_TENCENT_TEMPLATE_ID", cls.name),
            region=required(config, "CRM_TENCENT_REGION", cls.name),
            endpoint=required(config, "CRM_TENCENT_ENDPOINT", cls.name),
        )

    @staticmethod
    def _call(method, request):
        try:
            return method(request)
        except TencentCloudSDKException as error:
            code = error.get_code() or ""
            raise ProviderError(
                f"Tencent Cloud SMS: {code}: {error.get_message()}",
                permanent=is_permanent(code),
            ) from error

    def send(self, to: str, body: str, key: str) -> str:
        request = models.SendSmsRequest()
        request.PhoneNumberSet = [to]
        request.SmsSdkAppId = self.sdk_app_id
        request.SignName = self.sign_name
        request.TemplateId = self.template_id
        request.TemplateParamSet = [without_signature(body)]
        request.SessionContext = key
        response = self._call(self.client.SendSms, request)
        statuses = response.SendStatusSet or []
        if not statuses:
            raise ProviderError(f"Tencent Cloud SMS: no send status ({response.RequestId})")
        status = statuses[0]
        if status.Code != "Ok":
            raise ProviderError(
                f"Tencent Cloud SMS: {status.Code}: {status.Message}",
                permanent=is_permanent(status.Code or ""),
            )
        return status.SerialNo

    def lookup(self, key: str, to: str) -> Delivery:
        """SENT if a delivery report for ``to`` carries ``key``, else UNKNOWN. A failure that
        may pass (network, throttling) is raised, so it is asked again."""
        now = self.clock()
        request = models.PullSmsSendStatusByPhoneNumberRequest()
        request.BeginTime = int((now - LOOKBACK).timestamp())
        request.EndTime = int(now.timestamp())
        request.Offset = 0
        request.Limit = PULL_LIMIT
        request.PhoneNumber = to
        request.SmsSdkAppId = self.sdk_app_id
        try:
            response = self._call(self.client.PullSmsSendStatusByPhoneNumber, request)
        except ProviderError as error:
            if error.permanent:
                return Delivery(LookupResult.UNKNOWN)
            raise
        for report in response.PullSmsSendStatusSet or []:
            if report.SessionContext == key:
                return Delivery(LookupResult.SENT, report.SerialNo)
        return Delivery(LookupResult.UNKNOWN)
