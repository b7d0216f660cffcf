"""Staff reminders by e-mail: the outbox sends e-mail rows through the mailer, never as SMS."""

from __future__ import annotations

import socketserver
import threading
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import OutboxMessage
from crm.models.enums import OutboxStatus
from crm.providers.base import ProviderError
from crm.providers.console import ConsoleProvider
from crm.providers.mail import ConsoleMailer, SmtpMailer
from crm.services.outreach.dispatch import dispatch
from crm.services.outreach.enqueue import enqueue_staff_message

NIGHT = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)  # 07:30 in Shanghai: digest time


class SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP to take one message (RFC 5321's happy path, and one refusal)."""

    def reply(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode())

    def handle(self):
        self.reply("220 test ESMTP")
        data, lines = False, []
        for raw in self.rfile:
            line = raw.decode().rstrip("\r\n")
            if data:
                if line == ".":
                    data = False
                    self.server.received.append("\n".join(lines))
                    self.reply("250 queued")
                else:
                    lines.append(line)
                continue
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 test")
            elif verb == "RCPT" and "nobody@" in line:
                self.reply("550 no such user")
            elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                self.reply("250 ok")
            elif verb == "DATA":
                data = True
                self.reply("354 go ahead")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


@pytest.fixture
def smtp_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), SmtpHandler)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_smtp_mailer_delivers_and_a_refused_address_is_permanent(smtp_server):
    port = smtp_server.server_address[1]
    mailer = SmtpMailer("127.0.0.1", port, "crm@bank.example", tls=False)
    message_id = mailer.send(
        "alice@bank.example", "今日提醒\n拜访 张伟", "digest-email:1:2026-11-23"
    )
    assert "digest-email.1.2026-11-23" in message_id
    [raw] = smtp_server.received
    assert "Subject:" in raw and "alice@bank.example" in raw
    with pytest.raises(ProviderError) as refused:
        mailer.send("nobody@bank.example", "x\ny", "k")
    assert refused.value.permanent


def test_staff_email_goes_through_the_mailer_even_before_the_sms_window(world, tmp_path):
    alice = world.alice
    alice.email = "alice@bank.example"
    alice.phone = "+8613912345678"
    db.session.commit()
    assert enqueue_staff_message(alice, "digest-email:x", "标题\n正文", channel="email", now=NIGHT)
    assert enqueue_staff_message(alice, "digest-sms:x", "短信正文", channel="sms", now=NIGHT)
    db.session.commit()
    sms = ConsoleProvider(tmp_path / "sms.jsonl")
    mail = ConsoleMailer(tmp_path / "mail.jsonl")
    summary = dispatch(NIGHT, provider=sms, mailer=mail)
    assert summary.sent == 2  # staff reminders are not marketing: no window
    assert [m["to"] for m in mail.sent()] == ["alice@bank.example"]
    assert [m["to"] for m in sms.sent()] == ["+8613912345678"]
    rows = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(r.channel, r.status, r.provider) for r in rows] == [
        ("email", OutboxStatus.SENT, "console-mail"),
        ("sms", OutboxStatus.SENT, "console"),
    ]
