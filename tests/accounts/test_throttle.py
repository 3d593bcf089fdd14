"""The sign-in throttle (docs/security.md): per account+address pair with back-off, a warning, one store."""
import time

from limits.storage import MemoryStorage

from inspect_api.services.accounts.throttle import LoginThrottle, SignInThrottled, ThrottlePolicy

from ..factories import PASSWORD

TOKEN = "/api/v1/auth/token"


def _api(client, username, password, addr="10.1.1.1"):
    return client.post(TOKEN, json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": addr})


def test_wrong_password_says_how_many_attempts_remain_in_chinese(client, world):
    messages = [_api(client, "admin", "wrong-1234").get_json() for _ in range(4)]
    assert [m["details"]["remaining_attempts"] for m in messages] == [4, 3, 2, 1]
    assert messages[0]["message"].startswith("用户名或密码错误，还可尝试 4 次")
    fifth = _api(client, "admin", "wrong-1234")
    assert fifth.status_code == 401
    assert "登录失败次数过多，请 1 分钟后再试" in fifth.get_json()["message"]
    locked = _api(client, "admin", PASSWORD)           # the right password waits out the lock
    assert locked.status_code == 429
    body = locked.get_json()
    assert body["code"] == "too_many_requests" and body["message"].startswith("登录失败次数过多")
    assert int(locked.headers["Retry-After"]) > 0


def test_a_lock_on_one_address_does_not_lock_the_account_elsewhere(client, world):
    for _ in range(5):
        _api(client, "inspector1", "wrong-1234", addr="10.9.9.9")
    assert _api(client, "inspector1", PASSWORD, addr="10.9.9.9").status_code == 429
    assert _api(client, "inspector1", PASSWORD, addr="10.1.1.1").status_code == 201


def test_spraying_made_up_usernames_does_not_lock_out_the_office_behind_the_same_nat(client, app, world):
    # inspector1's tablet signed in from the office before
    assert _api(client, "inspector1", PASSWORD, addr="10.2.2.2").status_code == 201
    limit = app.config["LOGIN_THROTTLE_ADDRESS_LIMIT"]
    for i in range(limit):
        assert _api(client, f"nobody{i}", "wrong-1234", addr="10.2.2.2").status_code == 401
    # the address is over its budget: strangers wait, the known tablet still signs in
    assert _api(client, "nobody-else", "wrong-1234", addr="10.2.2.2").status_code == 429
    assert _api(client, "inspector1", PASSWORD, addr="10.2.2.2").status_code == 201


def test_successful_sign_ins_never_count(client, world):
    for _ in range(30):
        assert _api(client, "admin", PASSWORD).status_code == 201


def test_success_clears_the_pairs_count(client, world):
    for _ in range(4):
        _api(client, "admin", "wrong-1234")
    assert _api(client, "admin", PASSWORD).status_code == 201
    assert _api(client, "admin", "wrong-1234").get_json()["details"]["remaining_attempts"] == 4


def test_portal_and_api_share_one_budget(client, world):
    from ..browser.portal_helpers import csrf_from

    for _ in range(3):
        _api(client, "enterprise1", "wrong-1234", addr="127.0.0.1")
    page = client.get("/login")
    resp = client.post("/login", data={"username": "enterprise1", "password": "wrong-1234",
                                       "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert resp.status_code == 401
    html = resp.get_data(as_text=True)
    assert "用户名或密码错误" in html and "还可尝试 1 次" in html


def test_back_off_doubles_and_is_capped():
    storage = MemoryStorage()
    t = LoginThrottle(storage, ThrottlePolicy(free_attempts=2, base_lock_seconds=60, max_lock_seconds=200))
    outcomes = []
    for _ in range(5):
        outcomes.append(t.record_failure("a", "1.2.3.4"))
        storage.clear(t._key("lock", "a", "1.2.3.4"))  # noqa: SLF001  (the lock ran out)
    assert [o.retry_after for o in outcomes] == [0, 60, 120, 200, 200]
    assert [o.remaining for o in outcomes] == [1, 0, 0, 0, 0]


def test_a_locked_pair_is_refused_before_its_password_is_checked():
    t = LoginThrottle(MemoryStorage(), ThrottlePolicy(free_attempts=1, base_lock_seconds=2))
    t.record_failure("Admin ", "1.2.3.4")
    try:
        t.check("admin", "1.2.3.4")
    except SignInThrottled as exc:
        assert 1 <= exc.retry_after <= 2
    else:
        raise AssertionError("the pair must be locked")
    time.sleep(2.1)
    t.check("admin", "1.2.3.4")  # the lock has run out
