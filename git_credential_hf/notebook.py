"""The notebook login widget: a password field, an "Add token as git credential?" checkbox
(on by default) and a Login button. A click hands the token to ``submit`` and shows the lines it
returns, or its error, in the widget; the password field is emptied whatever happens. Needs
ipywidgets (the ``notebook`` extra). Deciding is not done here: ``_login.notebook_login`` builds
the widget with its login function."""

from __future__ import annotations

import html

import ipywidgets as widgets

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


def login_widget(
    submit: Callable[[str, bool], list[str]], endpoint: str, write_permission: bool = False
) -> widgets.VBox:
    """The widget ``notebook_login`` displays. ``submit(token, add_to_git)`` logs in and returns
    the lines to show; a ``ValueError`` (``LoginError``) is shown as its message. Its children
    are, in order: intro, token field, git checkbox, Login button, outcome."""
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
    return widgets.VBox([intro, token, add_to_git, button, outcome])
