"""A browser that reaches the app through a reverse proxy, as staff do in production.

The proxy ends TLS and forwards each request over plain HTTP to one of the web hosts, adding
``X-Forwarded-For``, ``-Proto`` and ``-Host`` (the app trusts that one hop: CRM_PROXY_HOPS=1).
The browser sees one site, ``https://<public host>``: it keeps the cookies the site sets
(Secure ones included, since for it the site is HTTPS), sends the Referer a browser sends
(Flask-WTF checks it on HTTPS), and submits forms with the values a browser would.
"""

from __future__ import annotations

import http.client
import itertools
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie


@dataclass
class Form:
    action: str | None
    fields: dict[str, str] = field(default_factory=dict)


class _Forms(HTMLParser):
    """Every form of a page with what submitting it sends: text inputs and hidden ones,
    checked boxes, the selected option of each list, the text of each text area."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._select: str | None = None
        self._first_option: dict[str, str] = {}
        self._textarea: str | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        a = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action")))
        if not self.forms:
            return
        fields = self.forms[-1].fields
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    fields[name] = a.get("value") or "on"
            elif kind not in ("submit", "button", "image", "reset", "file"):
                fields[name] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            fields[name] = ""
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select:
            value = a.get("value", "")
            self._first_option.setdefault(self._select, value)
            if "selected" in a:
                fields[self._select] = value

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            fields = self.forms[-1].fields
            if self._select not in fields and self._select in self._first_option:
                fields[self._select] = self._first_option[self._select]
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.forms[-1].fields[self._textarea] += data


def page_form(html: str, action: str | None = None) -> Form:
    """The form of the page that posts to ``action`` (None: to the page itself)."""
    for form in _Forms(html).forms:
        if form.action == action:
            return form
    raise LookupError(f"no form posting to {action or 'the page itself'}")


@dataclass
class Answer:
    status: int
    location: str | None  # the path a redirect leads to, on this site
    text: str
    upstream: str  # the web host that answered


class Browser:
    """One member of staff's browser; each request goes to the web host the caller picks,
    as the proxy in front of them would."""

    def __init__(self, public_host: str, client_address: str, timeout: float = 20) -> None:
        self.public_host = public_host
        self.client_address = client_address
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.last_page: str | None = None

    def get(self, upstream: tuple[str, int], path: str) -> Answer:
        return self._request(upstream, "GET", path, None)

    def post(self, upstream: tuple[str, int], path: str, fields: dict[str, str]) -> Answer:
        return self._request(upstream, "POST", path, urllib.parse.urlencode(fields))

    def _request(
        self, upstream: tuple[str, int], method: str, path: str, body: str | None
    ) -> Answer:
        headers = {
            "Host": self.public_host,
            "X-Forwarded-For": self.client_address,
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": self.public_host,
            "Accept-Language": "zh-CN",
            "Connection": "close",
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.last_page:
            headers["Referer"] = f"https://{self.public_host}{self.last_page}"
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection(*upstream, timeout=self.timeout)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode()
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    if morsel["expires"] and morsel.value == "":
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
            location = response.headers.get("Location")
        finally:
            connection.close()
        if location:
            parts = urllib.parse.urlsplit(location)
            assert parts.netloc in ("", self.public_host), f"redirect off the site: {location}"
            location = parts.path + (f"?{parts.query}" if parts.query else "")
        if response.status == 200 and method == "GET":
            self.last_page = path
        return Answer(response.status, location, text, f"{upstream[0]}:{upstream[1]}")


class Staffer(threading.Thread):
    """A member of staff at work through the proxy: logs in, then opens a dossier, its edit
    form, and saves a revision of its notes, round after round until told to stop (or
    ``rounds`` or ``seconds`` are over); each request goes to the next web host in turn.

    ``acknowledged`` lists each revision the site confirmed (customer, notes, when);
    ``answers`` counts the answers per web host and status; ``failures`` says what was not
    as a browser expects (an error, a refusal, a redirect elsewhere).
    """

    def __init__(
        self,
        username: str,
        password: str,
        customer_ids: list[int],
        upstreams: list[tuple[str, int]],
        client_address: str,
        public_host: str,
        *,
        rounds: int = 250,
        seconds: float = 180,
        pause: float = 0.05,
    ) -> None:
        super().__init__(daemon=True)
        self.username, self.password = username, password
        self.customer_ids = customer_ids
        self.browser = Browser(public_host, client_address)
        self._upstreams = itertools.cycle(upstreams)
        self.rounds, self.seconds, self.pause = rounds, seconds, pause
        self.acknowledged: list[tuple[int, str, float]] = []
        self.answers: Counter[tuple[str, int]] = Counter()
        self.failures: list[str] = []
        self.logged_in = False
        self.rounds_done = 0
        self.stop = threading.Event()

    def _send(
        self, path: str, fields: dict[str, str] | None = None, to: str | None = None
    ) -> Answer | None:
        """GET (or POST ``fields``); the answer if it is a page, or a redirect ``to``."""
        upstream = next(self._upstreams)
        method = "GET" if fields is None else "POST"
        try:
            if fields is None:
                answer = self.browser.get(upstream, path)
            else:
                answer = self.browser.post(upstream, path, fields)
        except OSError as error:
            self.failures.append(f"{method} {path} on {upstream[0]}: {error!r}")
            return None
        self.answers[(answer.upstream, answer.status)] += 1
        expected = (302, to) if to is not None else (200, None)
        if (answer.status, answer.location) != expected:
            self.failures.append(
                f"{method} {path} on {answer.upstream}: {answer.status} {answer.location}"
            )
            return None
        return answer

    def run(self) -> None:
        deadline = time.monotonic() + self.seconds
        try:
            page = self._send("/login")
            if page is None:
                return
            login = page_form(page.text).fields
            login.update(username=self.username, password=self.password)
            if self._send("/login", login, to="/today") is None:
                return
            self.logged_in = True
            for n in range(self.rounds):
                if self.stop.is_set() or time.monotonic() > deadline:
                    break
                customer_id = self.customer_ids[n % len(self.customer_ids)]
                dossier = f"/customers/{customer_id}"
                if self._send(dossier) is None:
                    continue
                edit = self._send(f"{dossier}/edit")
                if edit is None:
                    continue
                fields = page_form(edit.text).fields
                fields["notes"] = f"{self.username} 修订 {n}"
                if self._send(f"{dossier}/edit", fields, to=dossier) is not None:
                    self.acknowledged.append((customer_id, fields["notes"], time.monotonic()))
                self.rounds_done += 1
                time.sleep(self.pause)
        except Exception as error:  # reported by the test with the rest
            self.failures.append(f"{self.username}: {error!r}")
