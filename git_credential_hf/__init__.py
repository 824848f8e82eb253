"""git-credential-hf: a git credential helper for the Hugging Face Hub.

The Python API (``login``, ``interpreter_login``, ``notebook_login``, ``logout``, ``whoami``,
``get_token``, ``list_tokens``, ``auth_switch``, ``check_access``) and its errors (``LoginError``,
``NotLoggedInError``) load on first use (PEP 562):
git imports this package on every ``get``, and nothing here may slow that down.
"""

__all__ = [
    "LoginError",
    "NotLoggedInError",
    "auth_switch",
    "check_access",
    "get_token",
    "interpreter_login",
    "list_tokens",
    "login",
    "logout",
    "notebook_login",
    "whoami",
]


def __getattr__(name: str):  # the type depends on the name
    if name in __all__:
        from . import _login

        value = getattr(_login, name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list:
    return sorted({*globals(), *__all__})
