"""The notebook login widget: a password field, an "Add token as git credential?" checkbox
(on by default) and a Login button. A click logs in and shows the outcome, or the error, in
the widget; the password field is emptied whatever happens. Needs ipywidgets (the
``notebook`` extra)."""

from __future__ import annotations

import contextlib
import html
import io

import ipywidgets as widgets

from . import _login, settings


def login_widget(write_permission: bool = False) -> widgets.VBox:
    """The widget ``notebook_login`` displays. Its children are, in order: intro, token field,
    git checkbox, Login button, outcome."""
    intro = widgets.HTML(
        "<p>Paste a token from "
        f"<a href='{html.escape(settings.endpoint())}/settings/tokens' target='_blank'>"
        f"{html.escape(settings.endpoint())}/settings/tokens</a>"
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
        printed = io.StringIO()
        try:
            with contextlib.redirect_stdout(printed):
                _login._save_and_report(value, add_to_git.value, write_permission)
        except ValueError as e:  # LoginError: a message written for people, without token
            outcome.value = f"<b style='color: #c00'>{html.escape(str(e))}</b>"
        except Exception as e:  # anything else: its type only, a message might echo input
            outcome.value = f"<b style='color: #c00'>Login failed ({type(e).__name__})</b>"
        else:
            outcome.value = "<br>".join(html.escape(ln) for ln in printed.getvalue().splitlines())
        finally:
            button.disabled = False

    button.on_click(on_click)
    return widgets.VBox([intro, token, add_to_git, button, outcome])
