"""A local HTTP server that answers like Alibaba Cloud SMS, Tencent Cloud SMS and Twilio.

The SDK providers are pointed at it (plain HTTP on 127.0.0.1), so their tests send through
the real SDKs without a network. It records every request, remembers what it accepted (so
the delivery queries find it, as the real services would), and answers an error when told.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")
TWILIO_MESSAGES = re.compile(r"^/2010-04-01/Accounts/(?P<account>\w+)/Messages\.json$")


@dataclass
class Recorded:
    """One request as the fake provider saw it."""

    action: str  # SendSms, QuerySendDetails, PullSmsSendStatusByPhoneNumber, Messages.create
    method: str
    path: str
    params: dict  # query string, form or JSON body, merged
    headers: dict


@dataclass
class Accepted:
    """A message the fake provider took."""

    action: str
    phone: str
    key: str
    message_id: str
    body: str
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


class FakeProvider:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.accepted: list[Accepted] = []
        self._errors: dict[str, deque[tuple[int, dict]]] = defaultdict(deque)
        self._counter = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeProvider:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.accepted.clear()
            self._errors.clear()

    def fail(self, action: str, status: int, payload: dict) -> None:
        """Answer the next ``action`` request with this status and JSON payload."""
        with self._lock:
            self._errors[action].append((status, payload))

    def calls(self, action: str) -> list[Recorded]:
        return [r for r in self.requests if r.action == action]

    # --- answering ---------------------------------------------------------------------

    def answer(self, recorded: Recorded) -> tuple[int, dict]:
        with self._lock:
            self.requests.append(recorded)
            self._counter += 1
            serial = self._counter
            queued = self._errors.get(recorded.action)
            if queued:
                return queued.popleft()
        if recorded.path.startswith("/2010-04-01/"):
            return self._twilio(recorded, serial)
        if "x-tc-action" in recorded.headers:
            return self._tencent(recorded, serial)
        return self._aliyun(recorded, serial)

    def _accept(self, action, phone, key, message_id, body) -> None:
        with self._lock:
            self.accepted.append(Accepted(action, phone, key, message_id, body))

    def _aliyun(self, recorded: Recorded, serial: int) -> tuple[int, dict]:
        params = recorded.params
        request_id = f"A{serial:08d}-REQUEST"
        if recorded.action == "SendSms":
            biz_id = f"9006197469364984^{serial}"
            content = json.loads(params["TemplateParam"])["content"]
            self._accept("aliyun", params["PhoneNumbers"], params.get("OutId", ""), biz_id, content)
            return 200, {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": request_id}
        if recorded.action == "QuerySendDetails":
            details = [
                {
                    "PhoneNum": a.phone,
                    "OutId": a.key,
                    "SendStatus": 3,
                    "ErrCode": "DELIVERED",
                    "TemplateCode": "SMS_000000",
                    "Content": a.body,
                    "SendDate": a.at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S"),
                    "ReceiveDate": a.at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S"),
                }
                for a in self.accepted
                if a.action == "aliyun"
                and a.phone == params["PhoneNumber"]
                and a.at.astimezone(CHINA).strftime("%Y%m%d") == params["SendDate"]
            ]
            return 200, {
                "Code": "OK",
                "Message": "OK",
                "RequestId": request_id,
                "TotalCount": str(len(details)),
                "SmsSendDetailDTOs": {"SmsSendDetailDTO": details},
            }
        return 404, {"Code": "InvalidAction.NotFound", "Message": "", "RequestId": request_id}

    def _tencent(self, recorded: Recorded, serial: int) -> tuple[int, dict]:
        params = recorded.params
        request_id = f"t-{serial:08d}"
        if recorded.action == "SendSms":
            statuses = []
            for phone in params["PhoneNumberSet"]:
                serial_no = f"2640:{serial:018d}"
                context = params.get("SessionContext", "")
                self._accept("tencent", phone, context, serial_no, params["TemplateParamSet"][0])
                statuses.append(
                    {
                        "SerialNo": serial_no,
                        "PhoneNumber": phone,
                        "Fee": 1,
                        "SessionContext": context,
                        "Code": "Ok",
                        "Message": "send success",
                        "IsoCode": "CN",
                    }
                )
            return 200, {"Response": {"SendStatusSet": statuses, "RequestId": request_id}}
        if recorded.action == "PullSmsSendStatusByPhoneNumber":
            reports = [
                {
                    "UserReceiveTime": int(a.at.timestamp()),
                    "CountryCode": "86",
                    "SubscriberNumber": a.phone.removeprefix("+86"),
                    "PhoneNumber": a.phone,
                    "SerialNo": a.message_id,
                    "ReportStatus": "SUCCESS",
                    "Description": "DELIVRD",
                    "SessionContext": a.key,
                }
                for a in self.accepted
                if a.action == "tencent" and a.phone == params["PhoneNumber"]
            ]
            return 200, {"Response": {"PullSmsSendStatusSet": reports, "RequestId": request_id}}
        return 200, {
            "Response": {
                "Error": {"Code": "InvalidAction", "Message": "no such action"},
                "RequestId": request_id,
            }
        }

    def _twilio(self, recorded: Recorded, serial: int) -> tuple[int, dict]:
        match = TWILIO_MESSAGES.match(recorded.path)
        if recorded.action != "Messages.create" or not match:
            return 404, {"code": 20404, "message": "The requested resource was not found"}
        params = recorded.params
        sid = f"SM{serial:032x}"
        self._accept("twilio", params["To"], "", sid, params["Body"])
        now = format_datetime(datetime.now(UTC), usegmt=True)
        return 201, {
            "sid": sid,
            "account_sid": match["account"],
            "to": params["To"],
            "from": params.get("From"),
            "messaging_service_sid": params.get("MessagingServiceSid"),
            "body": params["Body"],
            "status": "queued",
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": now,
            "date_updated": now,
            "date_sent": None,
            "price": None,
            "error_code": None,
            "error_message": None,
            "uri": f"/2010-04-01/Accounts/{match['account']}/Messages/{sid}.json",
            "subresource_uris": {},
        }


def _action(method: str, path: str, headers: dict) -> str:
    if path.startswith("/2010-04-01/"):
        return "Messages.create" if method == "POST" and path.endswith("/Messages.json") else path
    # Tencent Cloud API 3.0 names the action in X-TC-Action; Alibaba Cloud in x-acs-action
    # (the RPC style's Action query parameter, in older signatures).
    return headers.get("x-tc-action") or headers.get("x-acs-action") or ""


def _handler(fake: FakeProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._handle()

        def do_POST(self) -> None:
            self._handle()

        def _handle(self) -> None:
            url = urlsplit(self.path)
            headers = {k.lower(): v for k, v in self.headers.items()}
            length = int(headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            params = dict(parse_qsl(url.query, keep_blank_values=True))
            if raw and headers.get("content-type", "").startswith("application/json"):
                params.update(json.loads(raw))
            elif raw:
                params.update(parse_qsl(raw.decode(), keep_blank_values=True))
            action = _action(self.command, url.path, headers) or params.get("Action", "")
            recorded = Recorded(action, self.command, url.path, params, headers)
            status, payload = fake.answer(recorded)
            data = json.dumps(payload, ensure_ascii=False).encode()
            self.send_response(status)
            # Exactly this type: the Tencent SDK reads API errors only from it.
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format, *args) -> None:  # quiet
            pass

    return Handler


def basic_auth_user(recorded: Recorded) -> str:
    """The user name of a request's HTTP basic authorisation (Twilio's account SID)."""
    scheme, _, token = recorded.headers.get("authorization", "").partition(" ")
    assert scheme.lower() == "basic"
    return base64.b64decode(token).decode().partition(":")[0]
