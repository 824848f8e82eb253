"""notebook_login as a person uses it: a real JupyterLab server on 127.0.0.1, the notebook opened
in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright: never `playwright install`),
a cell that calls ``notebook_login()``, a token typed into the password field, the git option
ticked, Login clicked; then "Log in with your browser" clicked, the link it shows opened in a new
tab on the local Hub, the code checked there and Authorize clicked. Then: the token file, the git
setup (git itself authenticates with the helper), what the page shows (the outcome, the link and
the code, never a token) and screenshots in test-artifacts/.

Everything runs in a throwaway HOME with its own Jupyter and IPython folders; the kernel inherits
that environment, with HF_ENDPOINT pointing at the local Hub. Needs the ``browser-test`` extra and
chromium (scripts/system-deps installs it): without them the test is skipped, except under CI=true
where it fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

REPO_ROOT = Path(__file__).resolve().parents[2]
REPO = "alice/model"  # tests/e2e/conftest.py: local_hub
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ARTIFACTS = REPO_ROOT / "test-artifacts"
SCREENSHOT = ARTIFACTS / "notebook_login.png"
TOKEN_SCREENSHOT = ARTIFACTS / "notebook_login-token.png"
DEVICE_SCREENSHOT = ARTIFACTS / "notebook_login-device-code.png"
FAILED_SCREENSHOT = ARTIFACTS / "notebook_login-failed.png"
WAIT_MS = 30_000  # any single step in the page (JupyterLab's first load is the slowest)


def require(ok: bool, what: str) -> None:
    """Skip without `what`; under CI=true, fail: CI must not go green without the browser test."""
    if ok:
        return
    message = f"{what} is missing: pip install -e '.[test,browser-test]' and scripts/system-deps"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def notebook(code: str) -> dict:
    return {
        "cells": [{"cell_type": "code", "execution_count": None, "id": "login", "metadata": {},
                   "outputs": [], "source": code}],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                    "name": "python3"}},
        "nbformat": 4, "nbformat_minor": 5,
    }


@pytest.fixture
def jupyter(tmp_path, git_env, local_hub):
    """A JupyterLab server on 127.0.0.1 (no token, no password) serving tmp_path/"notebooks", run
    in git_env's isolated HOME with HF_ENDPOINT = the local Hub. Yields its base URL."""
    require(importlib_ok("jupyterlab") and importlib_ok("ipykernel"), "JupyterLab (jupyterlab, ipykernel)")
    require(importlib_ok("playwright"), "Playwright for Python (playwright)")
    require(os.access(CHROMIUM, os.X_OK), f"chromium ({CHROMIUM})")
    root = tmp_path / "notebooks"
    root.mkdir()
    (root / "login.ipynb").write_text(json.dumps(notebook(
        "from git_credential_hf import notebook_login\nnotebook_login()")))
    jdir = tmp_path / "jupyter"
    env = {
        **git_env.env,
        "HF_ENDPOINT": local_hub.url,
        "JUPYTER_CONFIG_DIR": str(jdir / "config"),
        "JUPYTER_DATA_DIR": str(jdir / "data"),
        "JUPYTER_RUNTIME_DIR": str(jdir / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(jdir / "lab-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(jdir / "lab-workspaces"),
        "IPYTHONDIR": str(jdir / "ipython"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }
    port = free_port()
    (jdir / "config").mkdir(parents=True)
    (jdir / "config" / "jupyter_server_config.json").write_text(json.dumps({
        "ServerApp": {
            "ip": "127.0.0.1", "port": port, "port_retries": 0, "open_browser": False,
            "root_dir": str(root), "allow_root": True,  # CI runs as root
            "jpserver_extensions": {"jupyter_lsp": False, "jupyter_server_terminals": False},
        },
        "IdentityProvider": {"token": ""},  # no token, no password: only 127.0.0.1, one test
        "PasswordIdentityProvider": {"hashed_password": ""},
        "LabApp": {"news_url": None, "extension_manager": "readonly",
                   "check_for_updates_class": "jupyterlab.NeverCheckForUpdate"},
    }))
    settings = jdir / "lab-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)  # no "Would you like to get notified about Jupyter news?"
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    log = (tmp_path / "jupyter.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "jupyterlab"], cwd=root, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("JupyterLab did not start:\n"
                                     + (tmp_path / "jupyter.log").read_text()[-3000:])
            time.sleep(0.2)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)  # the server shuts its kernels down
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # anything left of the session: kernels
        except ProcessLookupError:
            pass
        proc.wait()
        log.close()


def importlib_ok(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def test_notebook_login_in_jupyterlab_in_chromium(jupyter, local_hub, git_env, hub_token, tmp_path,
                                                  capsys):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_FLAGS, viewport={"width": 1100, "height": 720})
        try:
            page = browser.pages[0] if browser.pages else browser.new_page()
            page.set_default_timeout(WAIT_MS)
            page.goto(f"{jupyter}/lab/tree/login.ipynb?reset")
            # Run the cell as a person does, once the status bar says the kernel is idle.
            expect(page.get_by_role("button", name=re.compile(r"\| Idle$"))).to_be_visible()
            page.locator(".jp-Cell .jp-InputArea-editor").first.click()
            page.keyboard.press("Shift+Enter")
            expect(page.locator(".jp-Cell .jp-InputPrompt").first).to_have_text("[1]:")

            password = page.locator("input[type='password']")
            password.wait_for()
            link = page.locator(f"a[href='{local_hub.url}/settings/tokens']")
            expect(link).to_have_count(1)
            box = page.get_by_role("checkbox", name="Add token as git credential?")
            box.uncheck()  # a real round trip of the option through the kernel
            box.check()
            expect(box).to_be_checked()
            password.fill(hub_token)
            page.get_by_role("button", name="Login", exact=True).click()
            outcome = page.locator(".widget-html", has_text="Login successful")
            expect(outcome).to_be_visible()
            expect(password).to_have_value("")
            page.screenshot(path=str(TOKEN_SCREENSHOT), full_page=True)

            shown = outcome.inner_text()
            html = page.content()
            values = page.evaluate("[...document.querySelectorAll('input, textarea')]"
                                   ".map(e => e.value).join('\\n')")
            saved_by_token_login = (git_env.hf_home / "token").read_text().strip()

            # Then the browser login (OAuth device code): the widget shows the Hub's link and a
            # code; the person opens the link (a new tab), checks the code, clicks Authorize.
            local_hub.device_interval = 1  # the widget polls every second, not every 5
            web = page.get_by_role("button", name="Log in with your browser")
            assert web.evaluate("b => b.scrollWidth <= b.clientWidth"), "its label is cut off"
            web.click()
            code_shown = page.locator(".hf-user-code")
            expect(code_shown).to_have_text(re.compile(r"^[A-Z]{4}-[A-Z]{4}$"))
            code = code_shown.inner_text()
            link = page.locator("a[href*='/device?user_code=']")
            assert link.get_attribute("href") == f"{local_hub.url}/device?user_code={code}"
            expect(link).to_have_text(f"{local_hub.url}/device")
            page.screenshot(path=str(DEVICE_SCREENSHOT), full_page=True)
            with browser.expect_page() as opened:
                link.click()
            tab = opened.value
            expect(tab.locator("form input[name='user_code']")).to_have_value(code)
            tab.get_by_role("button", name="Authorize").click()
            expect(tab.locator("body")).to_contain_text(re.compile(r'"approved": ?true'))
            tab.close()
            expect(code_shown).to_have_count(0)
            expect(page.locator(".widget-html", has_text="Login successful: logged in as alice")
                   ).to_have_count(1)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
            web_html = page.content()

            page.keyboard.press("Control+s")  # what a person saving the notebook keeps on disk
            page.wait_for_timeout(500)
        except Exception:
            page.screenshot(path=str(FAILED_SCREENSHOT), full_page=True)
            with capsys.disabled():
                print(f"\nscreenshot of the failure: {FAILED_SCREENSHOT}")
            raise
        finally:
            browser.close()
    with capsys.disabled():
        print(f"\nscreenshots: {SCREENSHOT} (both logins), {TOKEN_SCREENSHOT} (token login), "
              f"{DEVICE_SCREENSHOT} (the link and the code)")

    assert "Token is valid (permission: write)." in shown
    pieces = {hub_token[i:i + 8] for i in range(3, len(hub_token) - 7)}  # masks show 4 at most
    for where in (html, values, shown, (tmp_path / "notebooks" / "login.ipynb").read_text()):
        assert not [p for p in pieces if p in where], "the page shows (part of) the token"
    # The token is saved where huggingface_hub reads it, and git is set up for the local Hub ...
    assert saved_by_token_login == hub_token
    # ... then replaced by the browser login's token, which the page never showed either ...
    oauth_token = (git_env.hf_home / "token").read_text().strip()
    assert oauth_token.startswith("hf_oauth_") and oauth_token != hub_token
    assert not [p for p in {oauth_token[i:i + 8] for i in range(9, len(oauth_token) - 7)}
                if p in web_html], "the page shows (part of) the browser login's token"
    helpers = git_env.run("config", "--global", "--get-all", f"credential.{local_hub.url}.helper",
                          no_helper=False).stdout.splitlines()
    assert helpers[0] == "" and helpers[-1].endswith(("hf", "git-credential-hf")), helpers
    # ... so git itself authenticates with it: the helper answers with the saved token.
    env = {"HF_ENDPOINT": local_hub.url}
    fill = git_env.run("credential", "fill", no_helper=False, extra_env=env,
                       input=f"url={local_hub.url}/{REPO}\n\n")
    assert f"password={oauth_token}" in fill.stdout
    git_env.run("ls-remote", f"{local_hub.url}/{REPO}", no_helper=False, extra_env=env)
