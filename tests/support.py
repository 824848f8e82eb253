"""What the test suites share, in one place (importable as ``support``: pytest's ``pythonpath``
holds ``tests/``):

- ``load_local_hub()``: the one way to import ``scripts/local_hub.py`` (not a package);
- ``started_hub()``: a started local Hub with tokens, ``HF_ENDPOINT`` pointing at it: what the
  fixture name ``hub`` means in every unit-test module;
- ``closed_port()``: a 127.0.0.1 port nothing listens on;
- ``cases(table)``: a table of ``(id, *values)`` rows as ``pytest.param(*values, id=id)``.

Fixture names mean one thing everywhere: ``hub`` a started local Hub that ``HF_ENDPOINT`` points
to; ``local_hub`` a started local Hub the test points things at itself (e2e); ``fake_hub`` the
security suite's misbehaving whoami server; ``patched_whoami`` an in-process stand-in for
``hub.whoami``; ``mem`` the in-memory context of get/store/erase.
"""

from __future__ import annotations

import importlib.util
import socket
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
LOCAL_HUB_SCRIPT = ROOT / "scripts" / "local_hub.py"


def load_script(name: str) -> ModuleType:
    """``scripts/<name>.py`` (not a package) as the module ``name``, imported once, by path."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses need the module registered
        spec.loader.exec_module(module)
    return sys.modules[name]


def load_local_hub() -> ModuleType:
    """``scripts/local_hub.py`` as the module ``local_hub``: the one way to import it."""
    return load_script("local_hub")


@contextmanager
def started_hub(root: Path, monkeypatch: pytest.MonkeyPatch, tokens: Iterable[tuple[str, dict]] = ()
                ) -> Iterator:
    """A started local Hub under ``root`` with ``tokens`` (``(token, add_token keywords)``),
    ``HF_ENDPOINT`` pointing to it and no proxy in the way."""
    with load_local_hub().LocalHub(root) as hub:
        for token, spec in tokens:
            hub.add_token(token, **spec)
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
        yield hub


def closed_port() -> int:
    """A port on 127.0.0.1 that was free a moment ago: connecting to it is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cases(table: Iterable[tuple]) -> list:
    """``[(id, *values), …]`` as ``[pytest.param(*values, id=id), …]``: each row carries its id."""
    return [pytest.param(*row[1:], id=row[0]) for row in table]


def _hf_hub_major() -> int:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return int(version("huggingface_hub").split(".")[0])
    except (PackageNotFoundError, ValueError):
        return 0


# huggingface_hub 2.x (OAuth fields in stored_tokens, its refresh lock, OIDC) needs Python >= 3.10;
# on 3.9 pip installs 1.x, which has none of it: those interop tests cannot run there.
needs_hf_hub_2 = pytest.mark.skipif(
    _hf_hub_major() < 2, reason="needs huggingface_hub 2.x (Python >= 3.10): its OAuth token cache"
)
