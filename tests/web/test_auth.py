"""Authentication in the web hall (SQLite and PostgreSQL): no accounts → everything as before;
with accounts → a session cookie or an API key, else the sign-in page, 401s in the API's shapes."""

from __future__ import annotations

import httpx
import openai
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from masterhall.accounts.limits import LoginLimiter
from masterhall.store.tables import UserMasterRow
from masterhall.web.app import create_app

FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # cheap: behaviour, not strength

pytestmark = pytest.mark.anyio
PAGE_GET = {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}


@pytest.fixture
def people(hall):
    """alice (admin) and bob (member), passwords ``alice-pass`` and ``bob-pass``."""
    hall.accounts.hasher = FAST_HASHER
    hall.accounts.create_user("alice", "alice-pass", admin=True)
    hall.accounts.create_user("bob", "bob-pass")
    return hall.accounts


async def sign_in(client, name: str, password: str, next_: str = "/") -> httpx.Response:
    return await client.post("/login", data={"name": name, "password": password, "next": next_},
                             headers={"Origin": str(client.base_url).rstrip("/")})


async def test_without_accounts_everything_is_open_and_local(client):
    assert (await client.get("/api/account")).json() == {"accounts": False, "user": None}
    assert (await client.get("/api/conversations")).status_code == 200
    page = await client.get("/")
    assert page.status_code == 200 and 'id="header-user"' not in page.text
    assert (await client.get("/login")).status_code == 303  # nothing to sign in to


async def test_anonymous_requests_are_refused_in_each_shape(client, people):
    api = await client.get("/api/conversations")
    assert api.status_code == 401 and api.json()["error"]["code"] == "unauthenticated"
    assert api.headers["www-authenticate"] == "Bearer"
    v1 = await client.get("/v1/models")
    assert v1.status_code == 401
    assert v1.json()["error"] | {"message": ""} == {"message": "", "type": "invalid_request_error", "param": None,
                                                    "code": "invalid_api_key"}
    page = await client.get("/chat/abc?x=1", headers=PAGE_GET)
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/chat/abc%3Fx%3D1"
    assert (await client.get("/")).headers["location"] == "/login"
    write = await client.post("/api/builder/fork/socrates", json={"new_id": "sneaky"})
    assert write.status_code == 401
    for path in ("/openapi.json", "/docs", "/api/masters", "/admin/members", "/account"):
        assert (await client.get(path)).status_code in (303, 401), path
    # what stays public: the sign-in page, static files, the health check, the language switch
    assert (await client.get("/login")).status_code == 200
    assert (await client.get("/static/css/base.css")).status_code == 200
    assert (await client.get("/api/status")).status_code == 200
    assert (await client.get("/lang/zh?next=/login")).status_code == 303


async def test_sign_in_sets_a_safe_cookie_and_signs_the_person_in(client, people):
    r = await sign_in(client, "alice", "alice-pass", "/builder")
    assert r.status_code == 303 and r.headers["location"] == "/builder"
    cookie = r.headers["set-cookie"].lower()
    assert "mh_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    assert (await client.get("/api/account")).json()["user"] == {"id": 1, "name": "alice", "role": "admin"}
    page = await client.get("/")
    assert page.status_code == 200 and 'id="header-user"' in page.text and "alice" in page.text
    assert 'id="nav-members"' in page.text
    assert (await client.get("/login")).status_code == 303  # already signed in


async def test_cookie_is_secure_over_https(hall, people):
    app = create_app(hall, load_model=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://hall") as c:
        r = await sign_in(c, "bob", "bob-pass")
    assert r.status_code == 303 and "secure" in r.headers["set-cookie"].lower()


async def test_sign_in_never_redirects_off_site(client, people):
    for target in ("https://evil.example/", "//evil.example", "/\\evil", "/login"):
        r = await sign_in(client, "bob", "bob-pass", target)
        assert r.headers["location"] == "/", target


async def test_wrong_password_and_disabled_account_messages(client, people):
    r = await sign_in(client, "bob", "nope-nope")
    assert r.status_code == 401 and "Wrong name or password." in r.text and "mh_session" not in r.headers.get("set-cookie", "")
    r = await client.post("/login", data={"name": "bob", "password": "nope"}, headers={"Cookie": "lang=zh"})
    assert r.status_code == 401 and "用户名或密码错误" in r.text
    people.set_disabled("bob", True)
    r = await sign_in(client, "bob", "bob-pass")
    assert r.status_code == 401 and "disabled" in r.text


async def test_sign_ins_are_rate_limited(client, people):
    people.limiter = LoginLimiter(per_name=3, per_address=10, window_s=60)
    for _ in range(3):
        assert (await sign_in(client, "bob", "wrong-guess")).status_code == 401
    limited = await sign_in(client, "bob", "bob-pass")  # even the right password waits now
    assert limited.status_code == 429 and 1 <= int(limited.headers["retry-after"]) <= 60
    assert "Try again in" in limited.text
    assert (await sign_in(client, "alice", "alice-pass")).status_code == 303  # another name is not locked out


async def test_logout_ends_the_session(client, people):
    await sign_in(client, "bob", "bob-pass")
    token = client.cookies["mh_session"]
    r = await client.post("/logout")
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert (await client.get("/api/conversations", headers={"Cookie": f"mh_session={token}"})).status_code == 401


async def test_api_keys_work_and_stop_working_when_revoked_or_disabled(client, people):
    _, key = people.create_key("bob", label="script")
    auth = {"Authorization": f"Bearer {key}"}
    assert (await client.get("/api/conversations", headers=auth)).status_code == 200
    assert (await client.get("/api/account", headers=auth)).json()["user"]["name"] == "bob"
    assert (await client.get("/v1/models", headers=auth)).status_code == 200
    # a bearer key lets a non-browser client write even with a foreign Origin — but only a valid one
    evil = {"Origin": "http://evil.example"}
    assert (await client.post("/api/builder/fork/socrates", json={"new_id": "by-key"}, headers={**auth, **evil})).status_code == 201
    bad = await client.post("/api/builder/fork/socrates", json={"new_id": "no-key"},
                            headers={"Authorization": "Bearer mh-forged", **evil})
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "invalid_api_key"
    people.set_disabled("bob", True)
    assert (await client.get("/api/conversations", headers=auth)).status_code == 401
    people.set_disabled("bob", False)
    people.revoke_key(people.list_keys("bob")[0].id)
    v1 = await client.get("/v1/models", headers=auth)
    assert v1.status_code == 401 and v1.json()["error"]["code"] == "invalid_api_key"


async def test_an_invalid_key_is_not_rescued_by_a_session_cookie(client, people):
    await sign_in(client, "bob", "bob-pass")
    assert (await client.get("/api/conversations")).status_code == 200
    assert (await client.get("/api/conversations", headers={"Authorization": "Bearer wrong"})).status_code == 401


async def test_a_session_write_from_another_origin_is_still_refused(client, people):
    await sign_in(client, "bob", "bob-pass")
    r = await client.post("/api/builder/fork/socrates", json={"new_id": "csrf"}, headers={"Origin": "http://evil.example"})
    assert r.status_code == 403


async def test_disabling_signs_the_person_out(client, people):
    await sign_in(client, "bob", "bob-pass")
    people.set_disabled("bob", True)
    assert (await client.get("/api/conversations")).status_code == 401
    assert (await client.get("/", headers=PAGE_GET)).status_code == 303


async def test_account_page_creates_shows_once_and_revokes_keys(client, people):
    await sign_in(client, "bob", "bob-pass")
    page = await client.get("/account")
    assert page.status_code == 200 and "bob" in page.text and 'id="new-key"' not in page.text
    created = await client.post("/account/keys", data={"label": "laptop"})
    assert created.status_code == 201
    key = created.text.split('<code id="new-key">')[1].split("</code>")[0]
    assert key.startswith("mh-") and created.headers["cache-control"] == "no-store"
    again = await client.get("/account")
    assert key not in again.text and key[:11] in again.text and "laptop" in again.text
    assert (await client.get("/api/conversations", headers={"Authorization": f"Bearer {key}"})).status_code == 200
    key_id = people.list_keys("bob")[0].id
    alice_key, _ = people.create_key("alice")
    assert (await client.post(f"/account/keys/{alice_key.id}/revoke")).status_code == 404  # not bob's
    assert (await client.post(f"/account/keys/{key_id}/revoke")).status_code == 303
    assert (await client.get("/api/conversations", headers={"Authorization": f"Bearer {key}"})).status_code == 401
    assert not people.list_keys("alice")[0].revoked


async def test_change_password_page(client, people):
    elsewhere = people.login("bob", "bob-pass").token
    await sign_in(client, "bob", "bob-pass")
    form = {"current_password": "bob-pass", "new_password": "bob-new-pass", "confirm_password": "bob-other"}
    assert (await client.post("/account/password", data=form)).status_code == 400
    form["confirm_password"] = "bob-new-pass"
    wrong = await client.post("/account/password", data={**form, "current_password": "nope"})
    assert wrong.status_code == 401
    ok = await client.post("/account/password", data=form)
    assert ok.status_code == 200 and "Your password was changed." in ok.text
    assert (await client.get("/api/account")).json()["user"]["name"] == "bob"  # still signed in here
    assert (await client.get("/api/account", headers={"Cookie": f"mh_session={elsewhere}"})).status_code == 401
    assert people.authenticate("bob", "bob-new-pass").name == "bob"


async def test_members_page_is_for_admins(client, people):
    await sign_in(client, "bob", "bob-pass")
    forbidden = await client.get("/admin/members")
    assert forbidden.status_code == 403 and "Only admins may manage members." in forbidden.text
    assert (await client.post("/admin/members", data={"name": "eve", "password": "eve-pass-1"})).status_code == 403
    assert (await client.post("/admin/members/1/disable")).status_code == 403
    assert people.user("alice").disabled is False and [u.name for u in people.list_users()] == ["alice", "bob"]
    page = await client.get("/")
    assert 'id="nav-members"' not in page.text


async def test_admin_adds_disables_enables_and_removes_members(client, people):
    await sign_in(client, "alice", "alice-pass")
    page = await client.get("/admin/members")
    assert page.status_code == 200 and 'data-user="bob"' in page.text
    added = await client.post("/admin/members", data={"name": "carol", "password": "carol-pass", "role": "member"})
    assert added.status_code == 201 and 'data-user="carol"' in added.text
    assert (await client.post("/admin/members", data={"name": "carol", "password": "carol-pass"})).status_code == 409
    assert (await client.post("/admin/members", data={"name": "dan", "password": "short"})).status_code == 400
    carol = people.user("carol").id
    assert (await client.post(f"/admin/members/{carol}/disable")).status_code == 303
    assert people.user("carol").disabled
    assert (await client.post(f"/admin/members/{carol}/enable")).status_code == 303
    assert not people.user("carol").disabled
    assert (await client.post(f"/admin/members/{carol}/remove", data={"confirm": "yes"})).status_code == 303
    assert [u.name for u in people.list_users()] == ["alice", "bob"]
    last = await client.post(f"/admin/members/{people.user('alice').id}/disable")
    assert last.status_code == 409 and "last active admin" in last.text


def test_openai_sdk_with_a_key_and_without(live, fake, people):
    _, key = people.create_key("bob", label="sdk")
    fake.queue("Know thyself.")
    client = openai.OpenAI(base_url=live.url + "/v1", api_key=key)
    reply = client.chat.completions.create(model="socrates", messages=[{"role": "user", "content": "Advice?"}])
    assert reply.choices[0].message.content == "Know thyself."
    for wrong in ("unused", "mh-" + "x" * 43):
        with pytest.raises(openai.AuthenticationError) as exc:
            openai.OpenAI(base_url=live.url + "/v1", api_key=wrong).chat.completions.create(
                model="socrates", messages=[{"role": "user", "content": "hi"}])
        assert exc.value.status_code == 401 and exc.value.code == "invalid_api_key"
    people.revoke_key(people.list_keys("bob")[0].id)
    with pytest.raises(openai.AuthenticationError):
        client.models.list()


async def test_signing_in_again_replaces_the_old_session(client, people):
    await sign_in(client, "bob", "bob-pass")
    old = client.cookies["mh_session"]
    await sign_in(client, "bob", "bob-pass")
    assert client.cookies["mh_session"] != old
    assert (await client.get("/api/account", headers={"Cookie": f"mh_session={old}"})).status_code == 401
    assert (await client.get("/api/account")).json()["user"]["name"] == "bob"


async def test_removing_a_member_takes_their_published_master_out_of_the_hall(client, people, hall):
    await sign_in(client, "bob", "bob-pass")
    assert (await client.post("/api/builder/fork/socrates", json={"new_id": "bobs-socrates"})).status_code == 201
    assert (await client.post("/api/builder/masters/bobs-socrates/publish")).status_code == 200
    with hall.store.engine.begin() as conn:  # bob's (the ownership rules set this themselves)
        conn.execute(sa.update(UserMasterRow).where(UserMasterRow.id == "bobs-socrates").values(owner_id=people.user("bob").id))
    assert (await client.get("/api/masters/bobs-socrates")).status_code == 200
    await client.post("/logout")
    await sign_in(client, "alice", "alice-pass")
    bob = people.user("bob").id
    assert (await client.post(f"/admin/members/{bob}/remove", data={"confirm": "yes"})).status_code == 303
    assert (await client.get("/api/masters/bobs-socrates")).status_code == 404
    assert (await client.get("/api/masters/socrates")).status_code == 200


async def test_another_site_cannot_sign_a_browser_in_or_out(client, people):
    evil = {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}
    r = await client.post("/login", data={"name": "bob", "password": "bob-pass"}, headers=evil)
    assert r.status_code == 403 and "mh_session" not in r.headers.get("set-cookie", "")
    await sign_in(client, "bob", "bob-pass")
    assert (await client.post("/logout", headers=evil)).status_code == 403
    assert (await client.get("/api/account")).json()["user"]["name"] == "bob"
