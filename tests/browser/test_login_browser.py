"""Signing in and out in a real Chromium, on a hall of its own with two accounts (the shared test
server has none): redirect to the sign-in page, a wrong password's message, the way back to the
page asked for, the header's name and Sign out, the members page for admins only, API keys."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from .conftest import start_server


@pytest.fixture(scope="module")
def hall_with_accounts(tmp_path_factory):
    live, server, thread = start_server(tmp_path_factory.mktemp("accounts") / "masterhall.db")
    live.hall.accounts.hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    live.hall.accounts.create_user("alice", "alice-pass", admin=True)
    live.hall.accounts.create_user("bob", "bob-pass")
    yield live
    server.should_exit = True
    thread.join(timeout=10)
    live.hall.store.close()


@pytest.fixture
def tab(context):
    """A page whose JavaScript errors and CSP violations fail the test."""
    pg = context.new_page()
    pg.js_errors, pg.csp_violations = [], []
    pg.on("pageerror", lambda exc: pg.js_errors.append(str(exc)))
    pg.on("console", lambda msg: pg.csp_violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    yield pg
    assert not pg.js_errors and not pg.csp_violations, (pg.js_errors, pg.csp_violations)


def sign_in(tab, name: str, password: str) -> None:
    tab.locator("#login-name").fill(name)
    tab.locator("#login-password").fill(password)
    tab.locator("#login-submit").click()


def test_redirect_wrong_password_sign_in_and_out(tab, hall_with_accounts):
    url = hall_with_accounts.url
    tab.goto(url + "/builder")
    tab.wait_for_url("**/login?next=/builder")
    sign_in(tab, "bob", "not-his-password")
    assert tab.locator("#login-error").inner_text() == "Wrong name or password."
    assert tab.locator("#login-name").input_value() == "bob"  # the name stays; the password does not
    assert tab.locator("#login-password").input_value() == ""
    sign_in(tab, "bob", "bob-pass")
    tab.wait_for_url(url + "/builder")
    assert tab.locator("#nav-account .header-link-text").inner_text() == "bob"
    assert tab.locator("#nav-members").count() == 0  # members are not admins
    cookie = next(c for c in tab.context.cookies() if c["name"] == "mh_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert tab.evaluate("document.cookie").find("mh_session") == -1  # scripts cannot read it
    tab.locator("#logout").click()
    tab.wait_for_url(url + "/login")
    assert not any(c["name"] == "mh_session" for c in tab.context.cookies())
    tab.goto(url + "/")
    tab.wait_for_url(url + "/login")


def test_sign_in_page_in_chinese(tab, hall_with_accounts):
    tab.context.add_cookies([{"name": "lang", "value": "zh", "url": hall_with_accounts.url}])
    tab.goto(hall_with_accounts.url + "/login")
    assert tab.locator("h1").inner_text() == "登录"
    sign_in(tab, "bob", "wrong-password")
    assert tab.locator("#login-error").inner_text() == "用户名或密码错误。"


def test_members_page_for_admins_only(tab, hall_with_accounts):
    url = hall_with_accounts.url
    tab.goto(url + "/login")
    sign_in(tab, "bob", "bob-pass")
    tab.wait_for_url(url + "/")
    assert tab.goto(url + "/admin/members").status == 403
    tab.goto(url + "/login")  # signed in: goes on
    tab.locator("#logout").click()
    tab.wait_for_url(url + "/login")
    sign_in(tab, "alice", "alice-pass")
    tab.wait_for_url(url + "/")
    tab.locator("#nav-members").click()
    tab.wait_for_url(url + "/admin/members")
    form = tab.locator("#add-member-form")
    form.locator("input[name=name]").fill("carol")
    form.locator("input[name=password]").fill("carol-pass")
    form.locator("button[type=submit]").click()
    assert tab.locator("#members-notice").inner_text() == "carol was added."
    row = tab.locator('tr[data-user="carol"]')
    row.locator("button", has_text="Disable").click()
    tab.wait_for_url(url + "/admin/members")
    assert tab.locator('tr[data-user="carol"]').get_attribute("class") == "is-disabled"
    assert hall_with_accounts.hall.accounts.user("carol").disabled


def test_account_page_shows_a_new_key_once(tab, hall_with_accounts):
    url = hall_with_accounts.url
    tab.goto(url + "/account")
    tab.wait_for_url("**/login?next=/account")
    sign_in(tab, "bob", "bob-pass")
    tab.wait_for_url(url + "/account")
    tab.locator("#key-form input[name=label]").fill("browser")
    tab.locator("#key-form button").click()
    key = tab.locator("#new-key").inner_text()
    assert key.startswith("mh-")
    assert hall_with_accounts.api("GET", "/api/account", headers={"Authorization": f"Bearer {key}"}).json()["user"]["name"] == "bob"
    tab.goto(url + "/account")
    assert tab.locator("#new-key").count() == 0 and key not in tab.content()
    tab.locator("#keys tbody tr").first.locator("button", has_text="Revoke").click()
    tab.wait_for_url(url + "/account")
    assert hall_with_accounts.api("GET", "/api/account", headers={"Authorization": f"Bearer {key}"}).status_code == 401


def test_sign_in_account_and_members_pages_pass_axe(tab, hall_with_accounts, axe_check):
    """Issue 17's check on the pages of accounts: no serious or critical axe violation on the
    sign-in page (also with its error shown), the account page and the members page."""
    url = hall_with_accounts.url
    tab.goto(url + "/login")
    axe_check(tab, "sign-in")
    sign_in(tab, "alice", "wrong-password")
    tab.locator("#login-error").wait_for()
    axe_check(tab, "sign-in with an error")
    sign_in(tab, "alice", "alice-pass")
    tab.wait_for_url(url + "/")
    for path in ("/account", "/admin/members"):
        tab.goto(url + path)
        axe_check(tab, path)
