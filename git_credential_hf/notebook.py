"""The notebook login widget: a password field, an "Add token as git credential?" checkbox
(on by default) and a Login button. A click hands the token to ``submit`` and shows the lines it
returns, or its error, in the widget; the password field is emptied whatever happens. With
``browser``, a "Log in with your browser" button starts a browser login (OAuth device code): the
widget shows the link and the code, waits for the approval in a background thread and then shows
the outcome. Needs ipywidgets (the ``notebook`` extra). Deciding is not done here:
``_login.notebook_login`` builds the widget with its login functions."""

from __future__ import annotations

import html

import ipywidgets as widgets

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


def login_widget(
    submit: Callable[[str, bool], list[str]],
    endpoint: str,
    write_permission: bool = False,
    browser: Callable[[bool], Any] | None = None,
) -> widgets.VBox:
    """The widget ``notebook_login`` displays. ``submit(token, add_to_git)`` logs in and returns
    the lines to show; a ``ValueError`` (``LoginError``) is shown as its message. Its children
    are, in order: intro, token field, git checkbox, Login button, outcome, and with ``browser``
    a "Log in with your browser" button. ``browser(add_to_git)`` starts a browser login: an
    object with ``verification_uri``, ``verification_uri_complete``, ``user_code`` and
    ``finish()`` (which waits and returns a result with ``lines()``); the button's ``worker``
    attribute is the thread that waits."""
    link = html.escape(f"{endpoint}/settings/tokens")
    intro = widgets.HTML(
        f"<p>Paste a token from <a href='{link}' target='_blank'>{link}</a>"
        + (" (it needs write access)." if write_permission else ".")
        + "</p>"
    )
    token = widgets.Password(description="Token:", placeholder="hf_…")
    add_to_git = widgets.Checkbox(value=True, description="Add token as git credential?")
    button = widgets.Button(description="Login", button_style="primary")
    outcome = widgets.HTML()

    def on_click(_button: widgets.Button) -> None:
        value, token.value = token.value, ""  # never leave the secret in the page
        button.disabled = True
        try:
            lines = submit(value, add_to_git.value)
        except ValueError as e:  # LoginError: a message written for people, without token
            outcome.value = f"<b style='color: #c00'>{html.escape(str(e))}</b>"
        except Exception as e:  # anything else: its type only, a message might echo input
            outcome.value = f"<b style='color: #c00'>Login failed ({type(e).__name__})</b>"
        else:
            outcome.value = "<br>".join(html.escape(line) for line in lines)
        finally:
            button.disabled = False

    button.on_click(on_click)
    children = [intro, token, add_to_git, button, outcome]
    if browser is not None:
        # the default width cuts the label to "Log in with your …" (seen in Chromium)
        web = widgets.Button(description="Log in with your browser",
                             layout=widgets.Layout(width="max-content"))
        web.worker = None

        def on_web(_button: widgets.Button) -> None:
            web.disabled = button.disabled = True
            try:
                device = browser(add_to_git.value)
            except Exception as e:
                outcome.value = _error_html(e)
                web.disabled = button.disabled = False
                return
            uri = html.escape(device.verification_uri)
            full = html.escape(device.verification_uri_complete)
            code = html.escape(device.user_code)
            outcome.value = (
                f"<p>To log in, open <a href='{full}' target='_blank'><b>{uri}</b></a> and "
                "enter the code:</p><p style='font-size: 1.6em; letter-spacing: 0.3em; "
                f"font-family: monospace;'><b class='hf-user-code'>{code}</b></p>"
                "<p><i>Waiting for authorization…</i></p>"
            )

            def wait() -> None:
                try:
                    lines = device.finish().lines()
                except Exception as e:
                    outcome.value = _error_html(e)
                else:
                    outcome.value = "<br>".join(html.escape(line) for line in lines)
                finally:
                    web.disabled = button.disabled = False

            import threading

            web.worker = threading.Thread(target=wait, name="hf-browser-login", daemon=True)
            web.worker.start()

        web.on_click(on_web)
        children.append(web)
    return widgets.VBox(children)


def _error_html(e: Exception) -> str:
    if isinstance(e, ValueError):  # LoginError: a message written for people, without token
        return f"<b style='color: #c00'>{html.escape(str(e))}</b>"
    return f"<b style='color: #c00'>Login failed ({type(e).__name__})</b>"
