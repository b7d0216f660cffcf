"""The pages work under the content security policy, in a real browser, and the policy holds:
nothing of the app's own is refused, and an injected inline script does not run."""

import pytest

from tests.support.factories import PASSWORD

pytestmark = pytest.mark.browser

WATCH_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


def watched(page):
    """Collect what Chromium reports on the console about the policy (each refusal), the
    page's script errors, and the violation events of every document it loads."""
    errors: list[str] = []

    def on_console(msg):
        if msg.type == "error" and "Content Security Policy" in msg.text:
            errors.append(msg.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.add_init_script(WATCH_VIOLATIONS)
    return errors


def log_in(page, base, username):
    # Staff land on /today; these tests start from the customer list, so they ask for it.
    page.goto(f"{base}/login?next=/customers")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/customers")


def test_list_dossier_and_follow_up_pages_break_no_rule(world, live_server, page):
    base, _ = live_server
    errors = watched(page)
    log_in(page, base, "alice")
    assert page.locator("table.list tbody tr").count() == 1
    assert page.evaluate("window.cspViolations") == []

    page.get_by_role("link", name="张伟").click()
    page.wait_for_url(f"{base}/customers/{world.alice_customer.id}")
    assert "张伟" in page.locator("h1").inner_text()
    assert page.evaluate("window.cspViolations") == []

    # The follow-up pages' styles now come from a file; they still apply.
    page.goto(f"{base}/callbacks")
    assert page.locator(".quota-line").evaluate("e => getComputedStyle(e).display") == "flex"
    assert page.evaluate("window.cspViolations") == []
    assert errors == []


def test_an_injected_inline_script_does_not_run(world, live_server, page):
    base, _ = live_server
    errors = watched(page)
    log_in(page, base, "alice")
    page.goto(f"{base}/customers/{world.alice_customer.id}")
    page.evaluate(
        """() => {
          const s = document.createElement("script");
          s.textContent = "window.injected = true";
          document.body.appendChild(s);
        }"""
    )
    page.wait_for_function("window.cspViolations.length > 0")
    assert page.evaluate("window.injected === undefined")
    assert any("script-src" in v for v in page.evaluate("window.cspViolations"))
    assert any("Content Security Policy" in e for e in errors)
