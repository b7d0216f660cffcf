"""The SDK providers (Alibaba Cloud SMS, Tencent Cloud SMS, Twilio) through their real SDKs,
against a local server that answers like each service: what they send, how they read errors,
what lookup can tell, and their configuration."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import Flask

from config import load_config
from crm.extensions import db
from crm.models import Experience, OutboxMessage
from crm.models.enums import ExperienceStatus, Gender, OutboxStatus, PlanOrigin, Touchpoint
from crm.providers.aliyun import AliyunProvider
from crm.providers.base import LookupResult, ProviderError
from crm.providers.registry import provider_for
from crm.providers.sdk import without_signature
from crm.providers.tencent import TencentProvider
from crm.providers.twilio import TwilioProvider
from crm.services.outreach.dispatch import dispatch
from crm.services.outreach.enqueue import enqueue_due
from tests.providers.fake_server import CHINA, FakeProvider, basic_auth_user
from tests.support.factories import make_customer

PHONE = "+8613800001111"
KEY = "experience:42"
BODY = "【银保服务】张先生您好，本周五下午理财沙龙，欢迎光临。Alice拒收请回复R"
UNSIGNED = "张先生您好，本周五下午理财沙龙，欢迎光临。Alice拒收请回复R"

# 2026-11-23 10:00 in Shanghai: inside the 09:00–20:00 sending window.
MORNING = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def environment(url: str) -> dict[str, str]:
    """Every provider's settings, as the environment would give them, aimed at ``url``."""
    return {
        "CRM_ALIYUN_ACCESS_KEY_ID": "LTAI-test-key-id",
        "CRM_ALIYUN_ACCESS_KEY_SECRET": "aliyun-secret",
        "CRM_ALIYUN_SIGN_NAME": "银保服务",
        "CRM_ALIYUN_TEMPLATE_CODE": "SMS_468000001",
        "CRM_ALIYUN_ENDPOINT": url,
        "CRM_TENCENT_SECRET_ID": "AKID-test-secret-id",
        "CRM_TENCENT_SECRET_KEY": "tencent-secret",
        "CRM_TENCENT_SDK_APP_ID": "1400006666",
        "CRM_TENCENT_SIGN_NAME": "银保服务",
        "CRM_TENCENT_TEMPLATE_ID": "2100001",
        "CRM_TENCENT_REGION": "ap-shanghai",
        "CRM_TENCENT_ENDPOINT": url,
        "CRM_TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "CRM_TWILIO_AUTH_TOKEN": "twilio-token",
        "CRM_TWILIO_FROM": "+15005550006",
        "CRM_TWILIO_BASE_URL": url,
    }


def make_provider(name: str, url: str, **changes: str):
    """The provider ``provider_for`` builds from settings read out of an environment."""
    app = Flask(__name__)
    app.config.update(
        load_config("testing", {**environment(url), "CRM_SMS_PROVIDER": name, **changes})
    )
    return provider_for(app)


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    """The SDKs honour proxy variables; the fake server is on this machine."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture(scope="module")
def server():
    fake = FakeProvider().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake(server):
    server.reset()
    return server


# --- sending ------------------------------------------------------------------------------


def test_aliyun_sends_by_template_with_our_key(fake):
    provider = make_provider("aliyun", fake.url)
    assert isinstance(provider, AliyunProvider) and provider.name == "aliyun"
    message_id = provider.send(PHONE, BODY, KEY)
    [call] = fake.calls("SendSms")
    assert call.params["PhoneNumbers"] == "13800001111"
    assert call.params["SignName"] == "银保服务"
    assert call.params["TemplateCode"] == "SMS_468000001"
    # The one template parameter carries the body; Alibaba adds 【银保服务】 from SignName.
    assert json.loads(call.params["TemplateParam"]) == {"content": UNSIGNED}
    assert call.params["OutId"] == KEY
    assert "LTAI-test-key-id" in call.headers["authorization"]
    [accepted] = fake.accepted
    assert message_id == accepted.message_id


def test_tencent_sends_by_template_with_our_key(fake):
    provider = make_provider("tencent", fake.url)
    assert isinstance(provider, TencentProvider) and provider.name == "tencent"
    message_id = provider.send(PHONE, BODY, KEY)
    [call] = fake.calls("SendSms")
    assert call.params["PhoneNumberSet"] == [PHONE]
    assert call.params["SmsSdkAppId"] == "1400006666"
    assert call.params["SignName"] == "银保服务"
    assert call.params["TemplateId"] == "2100001"
    assert call.params["TemplateParamSet"] == [UNSIGNED]
    assert call.params["SessionContext"] == KEY
    assert call.headers["x-tc-region"] == "ap-shanghai"
    assert "AKID-test-secret-id" in call.headers["authorization"]
    [accepted] = fake.accepted
    assert message_id == accepted.message_id


def test_twilio_sends_the_body_as_written(fake):
    provider = make_provider("twilio", fake.url)
    assert isinstance(provider, TwilioProvider) and provider.name == "twilio"
    message_id = provider.send(PHONE, BODY, KEY)
    [call] = fake.calls("Messages.create")
    assert call.path == f"/2010-04-01/Accounts/AC{'0' * 32}/Messages.json"
    assert call.params["To"] == PHONE
    assert call.params["From"] == "+15005550006"
    assert call.params["Body"] == BODY  # Twilio adds no signature: ours stays
    assert basic_auth_user(call) == "AC" + "0" * 32
    [accepted] = fake.accepted
    assert message_id == accepted.message_id and message_id.startswith("SM")


def test_twilio_sends_through_a_messaging_service(fake):
    provider = make_provider("twilio", fake.url, CRM_TWILIO_FROM="MG" + "1" * 32)
    provider.send(PHONE, BODY, KEY)
    [call] = fake.calls("Messages.create")
    assert call.params["MessagingServiceSid"] == "MG" + "1" * 32
    assert "From" not in call.params


def test_only_a_leading_signature_is_removed():
    assert without_signature("【银保服务】您好【周五】") == "您好【周五】"
    assert without_signature("您好【周五】") == "您好【周五】"


# --- errors -------------------------------------------------------------------------------


def aliyun_error(code: str) -> dict:
    return {"Code": code, "Message": code, "RequestId": "A-ERROR"}


def tencent_status(code: str) -> dict:
    status = {"SerialNo": "", "PhoneNumber": PHONE, "Fee": 0, "SessionContext": KEY}
    status.update(Code=code, Message=code, IsoCode="CN")
    return {"Response": {"SendStatusSet": [status], "RequestId": "t-error"}}


def tencent_error(code: str) -> dict:
    return {"Response": {"Error": {"Code": code, "Message": code}, "RequestId": "t-error"}}


TENCENT_BAD_NUMBER = "InvalidParameterValue.IncorrectPhoneNumber"
TENCENT_BAD_TEMPLATE = "FailedOperation.TemplateIncorrectOrUnapproved"
TENCENT_BAD_SIGNATURE = "FailedOperation.SignatureIncorrectOrUnapproved"


def twilio_error(code: int, status: int) -> dict:
    return {"code": code, "message": f"error {code}", "more_info": "", "status": status}


@pytest.mark.parametrize(
    ("name", "action", "status", "payload", "permanent"),
    [
        ("aliyun", "SendSms", 200, aliyun_error("isv.MOBILE_NUMBER_ILLEGAL"), True),
        ("aliyun", "SendSms", 200, aliyun_error("isv.SMS_TEMPLATE_ILLEGAL"), True),
        ("aliyun", "SendSms", 200, aliyun_error("isv.SMS_SIGNATURE_ILLEGAL"), True),
        ("aliyun", "SendSms", 200, aliyun_error("isv.BUSINESS_LIMIT_CONTROL"), False),
        ("aliyun", "SendSms", 400, aliyun_error("Throttling.User"), False),
        ("aliyun", "SendSms", 503, aliyun_error("ServiceUnavailable"), False),
        ("tencent", "SendSms", 200, tencent_status(TENCENT_BAD_NUMBER), True),
        ("tencent", "SendSms", 200, tencent_status(TENCENT_BAD_TEMPLATE), True),
        ("tencent", "SendSms", 200, tencent_error(TENCENT_BAD_SIGNATURE), True),
        ("tencent", "SendSms", 200, tencent_status("LimitExceeded.PhoneNumberDailyLimit"), False),
        ("tencent", "SendSms", 200, tencent_error("RequestLimitExceeded"), False),
        ("tencent", "SendSms", 502, {"message": "bad gateway"}, False),
        ("twilio", "Messages.create", 400, twilio_error(21211, 400), True),
        ("twilio", "Messages.create", 400, twilio_error(21610, 400), True),
        ("twilio", "Messages.create", 429, twilio_error(20429, 429), False),
        ("twilio", "Messages.create", 500, twilio_error(20500, 500), False),
    ],
)
def test_errors_are_permanent_or_worth_retrying(fake, name, action, status, payload, permanent):
    provider = make_provider(name, fake.url)
    fake.fail(action, status, payload)
    with pytest.raises(ProviderError) as raised:
        provider.send(PHONE, BODY, KEY)
    assert raised.value.permanent is permanent
    assert len(fake.calls(action)) == 1  # the SDKs do not retry a send on their own


@pytest.mark.parametrize("name", ["aliyun", "tencent", "twilio"])
def test_an_unreachable_provider_is_worth_retrying(name):
    provider = make_provider(name, closed_port_url())
    with pytest.raises(ProviderError) as raised:
        provider.send(PHONE, BODY, KEY)
    assert raised.value.permanent is False
    assert "13800001111" not in str(raised.value)  # the error is stored on the message


# --- lookup -------------------------------------------------------------------------------


def test_aliyun_lookup_finds_our_key_in_the_send_details(fake):
    provider = make_provider("aliyun", fake.url)
    provider.send(PHONE, BODY, KEY)
    delivery = provider.lookup(KEY, PHONE)
    assert delivery.result == LookupResult.SENT
    assert delivery.provider_message_id is None  # the details carry no BizId
    [query] = fake.calls("QuerySendDetails")
    assert query.params["PhoneNumber"] == "13800001111"
    assert query.params["SendDate"] == datetime.now(CHINA).strftime("%Y%m%d")
    assert query.params["PageSize"] == "50" and query.params["CurrentPage"] == "1"


def test_aliyun_lookup_looks_back_a_few_days(fake):
    provider = make_provider("aliyun", fake.url)
    provider.send(PHONE, BODY, KEY)
    provider.clock = lambda: datetime.now(UTC) + timedelta(days=1)  # a crash yesterday
    assert provider.lookup(KEY, PHONE).result == LookupResult.SENT
    assert len(fake.calls("QuerySendDetails")) == 2


def test_aliyun_lookup_without_our_key_cannot_say(fake):
    provider = make_provider("aliyun", fake.url)
    provider.send(PHONE, BODY, "experience:1")
    # Not found is not proof: details arrive late, and only a few days are asked about.
    assert provider.lookup(KEY, PHONE).result == LookupResult.UNKNOWN
    assert len(fake.calls("QuerySendDetails")) == 3


def test_aliyun_lookup_raises_what_may_pass_and_gives_up_on_the_rest(fake):
    provider = make_provider("aliyun", fake.url)
    fake.fail("QuerySendDetails", 503, aliyun_error("ServiceUnavailable"))
    with pytest.raises(ProviderError):  # the outbox asks again at its next dispatch
        provider.lookup(KEY, PHONE)
    fake.fail("QuerySendDetails", 200, aliyun_error("isv.MOBILE_NUMBER_ILLEGAL"))
    assert provider.lookup(KEY, PHONE).result == LookupResult.UNKNOWN


def test_tencent_lookup_finds_our_key_in_the_delivery_reports(fake):
    provider = make_provider("tencent", fake.url)
    serial_no = provider.send(PHONE, BODY, KEY)
    before = int(datetime.now(UTC).timestamp())
    delivery = provider.lookup(KEY, PHONE)
    assert delivery.result == LookupResult.SENT
    assert delivery.provider_message_id == serial_no
    [pull] = fake.calls("PullSmsSendStatusByPhoneNumber")
    assert pull.params["PhoneNumber"] == PHONE
    assert pull.params["SmsSdkAppId"] == "1400006666"
    assert pull.params["Offset"] == 0 and pull.params["Limit"] == 100
    assert before - 3 * 86400 - 5 <= pull.params["BeginTime"] <= before - 3 * 86400 + 5
    assert before - 5 <= pull.params["EndTime"] <= before + 5


def test_tencent_lookup_without_our_key_cannot_say(fake):
    provider = make_provider("tencent", fake.url)
    provider.send(PHONE, BODY, "experience:1")
    # Reports exist only once the carrier answered (and carry the key only where enabled).
    assert provider.lookup(KEY, PHONE).result == LookupResult.UNKNOWN
    fake.fail("PullSmsSendStatusByPhoneNumber", 200, tencent_error("InternalError.Timeout"))
    with pytest.raises(ProviderError):
        provider.lookup(KEY, PHONE)


def test_twilio_lookup_cannot_say(fake):
    provider = make_provider("twilio", fake.url)
    provider.send(PHONE, BODY, KEY)
    assert provider.lookup(KEY, PHONE).result == LookupResult.UNKNOWN
    assert len(fake.requests) == 1  # nothing to ask Twilio


# --- configuration ------------------------------------------------------------------------

REQUIRED = [
    ("aliyun", "CRM_ALIYUN_ACCESS_KEY_ID"),
    ("aliyun", "CRM_ALIYUN_ACCESS_KEY_SECRET"),
    ("aliyun", "CRM_ALIYUN_SIGN_NAME"),
    ("aliyun", "CRM_ALIYUN_TEMPLATE_CODE"),
    ("tencent", "CRM_TENCENT_SECRET_ID"),
    ("tencent", "CRM_TENCENT_SECRET_KEY"),
    ("tencent", "CRM_TENCENT_SDK_APP_ID"),
    ("tencent", "CRM_TENCENT_SIGN_NAME"),
    ("tencent", "CRM_TENCENT_TEMPLATE_ID"),
    ("twilio", "CRM_TWILIO_ACCOUNT_SID"),
    ("twilio", "CRM_TWILIO_AUTH_TOKEN"),
    ("twilio", "CRM_TWILIO_FROM"),
]


@pytest.mark.parametrize(("name", "variable"), REQUIRED)
def test_a_missing_setting_is_named(name, variable):
    with pytest.raises(RuntimeError, match=variable):
        make_provider(name, "http://127.0.0.1:9", **{variable: ""})


def test_endpoints_default_to_the_services():
    settings = load_config("testing", {})
    assert settings["CRM_ALIYUN_ENDPOINT"] == "dysmsapi.aliyuncs.com"
    assert settings["CRM_TENCENT_ENDPOINT"] == "sms.tencentcloudapi.com"
    assert settings["CRM_TENCENT_REGION"] == "ap-guangzhou"
    assert settings["CRM_TWILIO_BASE_URL"] == "https://api.twilio.com"


# --- end to end: the outbox through Alibaba Cloud SMS -----------------------------------------


@pytest.fixture
def aliyun_app(app_factory, fake):
    settings = {k: v for k, v in environment(fake.url).items() if k.startswith("CRM_ALIYUN")}
    return app_factory(CRM_SMS_PROVIDER="aliyun", **settings)


@pytest.fixture
def customer(world):
    customer = make_customer(
        world.alice, "赵磊", "+8613700004444", sms_consent=True, gender=Gender.MALE
    )
    db.session.flush()
    experience = Experience(
        customer=customer,
        category=Touchpoint.ROUTINE,
        status=ExperienceStatus.PLANNED,
        origin=PlanOrigin.CADENCE,
        due_on=MORNING.astimezone(CHINA).date(),
        planned_cost=Decimal("0.10"),
    )
    db.session.add(experience)
    db.session.commit()
    return customer


def the_message() -> OutboxMessage:
    db.session.expire_all()
    return db.session.scalars(sa.select(OutboxMessage)).one()


def test_the_outbox_sends_through_alibaba_cloud(fake, aliyun_app, customer):
    today = MORNING.astimezone(CHINA).date()
    assert enqueue_due(today, MORNING) == 1
    queued = the_message()
    assert queued.body.startswith("【银保服务】赵先生") and queued.body.endswith("拒收请回复R")
    with aliyun_app.app_context():
        summary = dispatch(now=MORNING)
    assert summary.sent == 1
    message = the_message()
    assert message.status == OutboxStatus.SENT and message.provider == "aliyun"
    [accepted] = fake.accepted
    assert message.provider_message_id == accepted.message_id
    [call] = fake.calls("SendSms")
    assert call.params["PhoneNumbers"] == "13700004444"
    assert call.params["OutId"] == message.idempotency_key
    assert json.loads(call.params["TemplateParam"])["content"] == message.body.removeprefix(
        "【银保服务】"
    )


def test_a_send_cut_short_by_a_crash_is_found_by_its_key(fake, aliyun_app, customer):
    today = MORNING.astimezone(CHINA).date()
    enqueue_due(today, MORNING)
    message = the_message()
    # The dispatcher claimed the message, Alibaba took it, and the process died before
    # recording the answer.
    message.status, message.claimed_at, message.attempts = OutboxStatus.SENDING, MORNING, 1
    db.session.commit()
    with aliyun_app.app_context():
        provider_for(aliyun_app).send(message.recipient, message.body, message.idempotency_key)
        summary = dispatch(now=MORNING + timedelta(minutes=10))
    assert summary.reconciled["sent"] == 1 and summary.sent == 0
    assert the_message().status == OutboxStatus.SENT
    assert len(fake.calls("SendSms")) == 1  # never sent twice
