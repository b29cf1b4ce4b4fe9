"""Staff sign-in lock-out and kiosk key revocation, through the real hall server (uvicorn on
loopback): the API and the login form (with its CSRF token), a growing wait, per account and
per address, kept across a restart, audited without the password; the login page in Chromium
says why; a key revoked by the CLI in another process is refused from the next request."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from kiosk.queue import QueueEngine, QueueHttpServer, QueueSettings

pytestmark = pytest.mark.timeout(150)
API = "/api/v1"
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "password-1"
WRONG = "wrong-secret-xyz"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


class Hall:
    def __init__(self, folder: Path, settings: QueueSettings, *, first: bool = True) -> None:
        self.db = folder / "db" / "hall.sqlite"
        self.engine = QueueEngine(self.db, settings, key_path=folder / "secret" / "id.key")
        self.server = QueueHttpServer(self.engine, speech_dir=folder / "speech").start()
        self.url = self.server.url
        if first:
            self.key = self.server.hall.add_terminal("K-0001")
            self.server.hall.add_staff("li", PASSWORD, ["1"])
            self.server.hall.add_staff("wang", PASSWORD, ["2"])
        self.client = httpx.Client(base_url=self.url, timeout=10)

    def login(self, name: str, password: str) -> httpx.Response:
        return self.client.post(f"{API}/session", json={"name": name, "password": password})

    def stop(self) -> None:
        self.client.close()
        self.server.stop()
        self.engine.close()


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., Hall]]:
    halls: list[Hall] = []

    def go(first: bool = True, **settings: Any) -> Hall:
        rules = dict(synchronous="normal", login_failures=3, login_address_failures=50,
                     login_lockout_s=1, login_lockout_max_s=2)
        rules.update(settings)
        hall = Hall(tmp_path, QueueSettings(**rules), first=first)
        halls.append(hall)
        return hall

    yield go
    for hall in halls:
        hall.stop()


def locked(answer: httpx.Response, scope: str) -> int:
    assert answer.status_code == 429, (answer.status_code, answer.text)
    error = answer.json()["error"]
    assert error["code"] == "login_locked" and error["details"]["scope"] == scope
    assert "秒后再试" in error["message"]
    retry = int(answer.headers["Retry-After"])
    assert retry == error["details"]["retry_after_s"]
    return retry


def wait_out(seconds: int) -> None:
    time.sleep(seconds + 0.3)


def test_an_account_is_locked_with_a_growing_wait_and_a_correct_password_clears_it(
        start: Callable[..., Hall], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    hall = start()
    for _ in range(2):
        assert hall.login("li", WRONG).status_code == 401
    assert locked(hall.login("li", WRONG), "account") == 1  # the third in a row
    assert locked(hall.login("li", PASSWORD), "account") >= 1  # even the right password waits
    assert hall.login("wang", PASSWORD).status_code == 200  # other accounts are not locked
    wait_out(1)
    assert locked(hall.login("li", WRONG), "account") == 2  # doubled
    wait_out(2)
    assert locked(hall.login("li", WRONG), "account") == 2  # at login_lockout_max_s
    wait_out(2)
    assert hall.login("li", PASSWORD).status_code == 200  # clears the count
    assert hall.login("li", WRONG).status_code == 401
    # audited, and never the password (log lines, audit rows, the database file)
    outcomes = [row["outcome"] for row in reversed(hall.server.hall.audit_log())
                if row["actor"] == "li"]
    assert outcomes == ["wrong_password", "wrong_password", "wrong_password_locked",
                        "refused_locked", "wrong_password_locked", "wrong_password_locked",
                        "ok", "wrong_password"]
    assert all(row["address"] == "127.0.0.1" for row in hall.server.hall.audit_log())
    text = caplog.text
    assert "wrong password for account 'li' from 127.0.0.1; locked for 1 s" in text
    assert WRONG not in text and PASSWORD not in text
    for path in hall.db.parent.iterdir():
        assert WRONG.encode() not in path.read_bytes(), path


def test_an_address_is_locked_after_failures_on_any_accounts(
        start: Callable[..., Hall]) -> None:
    hall = start(login_address_failures=4, login_failures=10)
    for name in ("nobody-1", "nobody-2", "li"):  # names that do not exist count the same
        assert hall.login(name, WRONG).status_code == 401
    assert locked(hall.login("nobody-3", WRONG), "address") == 1
    assert locked(hall.login("wang", PASSWORD), "address") >= 1  # the whole address waits
    # behind a reverse proxy on loopback, the address is the one the proxy forwards
    proxied = hall.client.post(f"{API}/session", json={"name": "wang", "password": PASSWORD},
                               headers={"X-Forwarded-For": "10.0.0.7"})
    assert proxied.status_code == 200, proxied.text
    assert hall.server.hall.audit_log(1)[0]["address"] == "10.0.0.7"
    wait_out(1)
    assert hall.login("wang", PASSWORD).status_code == 200


def test_a_restart_does_not_reset_the_lock(start: Callable[..., Hall]) -> None:
    hall = start(login_lockout_s=60, login_lockout_max_s=600)
    for _ in range(3):
        hall.login("li", WRONG)
    assert locked(hall.login("li", PASSWORD), "account") > 50
    hall.stop()
    again = start(first=False, login_lockout_s=60, login_lockout_max_s=600)
    assert locked(again.login("li", PASSWORD), "account") > 50
    assert again.login("wang", PASSWORD).status_code == 200
    # an admin sets a new password from the CLI: that lifts the account's lock
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KIOSK_QUEUE_PASSWORD": "password-new"}
    reset = subprocess.run([sys.executable, "-m", "kiosk.queue", "staff", "add", "li",
                            "--windows", "1", "--db", str(again.db)], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=60)
    assert reset.returncode == 0, reset.stderr
    assert again.login("li", "password-new").status_code == 200


def _form(client: httpx.Client, name: str, password: str) -> httpx.Response:
    page = client.get("/login")
    token = re.search(r'"csrf": "([^"]+)"', page.text)
    assert token is not None
    return client.post("/login", data={"name": name, "password": password,
                                       "csrf": token.group(1)})


def test_the_login_form_is_locked_too_and_says_why(start: Callable[..., Hall],
                                                    tmp_path: Path) -> None:
    hall = start(login_lockout_s=120, login_lockout_max_s=600)
    form = httpx.Client(base_url=hall.url, timeout=10)
    missing = form.post("/login", data={"name": "li", "password": WRONG, "csrf": "x"})
    assert missing.headers["location"] == "/login?error=csrf"  # no CSRF cookie: not counted
    for _ in range(2):
        assert _form(form, "li", WRONG).headers["location"] == "/login?error=password"
    answer = _form(form, "li", WRONG)
    assert answer.status_code == 303
    assert re.fullmatch(r"/login\?error=locked_account&wait=1[12]\d", answer.headers["location"])
    assert _form(form, "li", PASSWORD).headers["location"].startswith("/login?error=locked")
    form.close()
    folder = Path(os.environ.get("KIOSK_SCREENSHOT_DIR") or tmp_path) / "queue-web"
    folder.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.goto(f"{hall.url}/login")
        page.fill("#name", "li")
        page.fill("#password", PASSWORD)  # right, but the account is locked
        page.click("#submit")
        expect(page.locator("#error")).to_have_text(
            re.compile(r"^该账号密码错误次数过多，已暂时锁定，请1[12]\d秒后再试$"))
        expect(page).to_have_url(re.compile(r"/login\?error=locked_account"))
        page.screenshot(path=str(folder / "login-locked-1366x768.png"))
        browser.close()


def test_a_key_revoked_from_the_cli_is_refused_by_the_running_server(
        start: Callable[..., Hall]) -> None:
    hall = start()
    kiosk = httpx.Client(base_url=hall.url, timeout=10, headers={"X-Api-Key": hall.key})
    for _ in range(3):  # used a few times: whatever a server might remember, it knows this key
        assert kiosk.get(f"{API}/categories").status_code == 200
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "kiosk.queue", "terminal", "revoke", "K-0001",
                           "--db", str(hall.db)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "K-0001 revoked" in done.stdout
    refused = kiosk.post(f"{API}/tickets", json={"category": "A"})
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
    assert kiosk.get(f"{API}/categories").status_code == 401
    unknown = subprocess.run([sys.executable, "-m", "kiosk.queue", "terminal", "revoke", "K-9",
                              "--db", str(hall.db)], cwd=ROOT, env=env, capture_output=True,
                             text=True, timeout=60)
    assert unknown.returncode == 1 and "no terminal 'K-9'" in unknown.stderr
    # re-keyed from the CLI: the new key works at once
    made = subprocess.run([sys.executable, "-m", "kiosk.queue", "terminal", "add", "K-0001",
                           "--db", str(hall.db)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    new_key = made.stdout.strip()
    assert kiosk.get(f"{API}/categories", headers={"X-Api-Key": new_key}).status_code == 200
    assert kiosk.get(f"{API}/categories").status_code == 401
    kiosk.close()
