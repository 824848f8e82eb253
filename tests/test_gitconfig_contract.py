"""One contract, two implementations: ``gitconfig.GitConfig`` (the real git, on the isolated
global config) and ``gitconfig.MemoryConfig``. Every case runs against both, so the in-memory
config used by fast tests of ``setup``/``status`` behaves as git does."""

from __future__ import annotations

import os

import pytest

from git_credential_hf import commands, gitconfig

OURS = "/opt/hf/bin/git-credential-hf"
URL = "https://huggingface.co"
KEY = f"credential.{URL}.helper"


@pytest.fixture(params=[pytest.param("git", id="real git"), pytest.param("memory", id="memory")])
def config(request, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(gitconfig, "helper_command", lambda: OURS)
    return gitconfig.GitConfig() if request.param == "git" else gitconfig.MemoryConfig()


def same(lines: list[str], config) -> list[str]:
    """Lines with the config's origin (a file path, or ``<memory>``) replaced by ``<origin>``."""
    origin = os.environ["GIT_CONFIG_GLOBAL"] if isinstance(config, gitconfig.GitConfig) else config.ORIGIN
    return [line.replace(f"file:{origin}", "<origin>").replace(origin, "<origin>") for line in lines]


def test_values_in_order_and_missing_key(config) -> None:
    assert config.global_values(KEY) == ([], None)
    config.add(KEY, "a")
    config.add(KEY, "b")
    values, origin = config.global_values(KEY)
    assert values == ["a", "b"] and origin is not None


def test_replace_all_leaves_one_value(config) -> None:
    config.add(KEY, "a")
    config.add(KEY, "b")
    config.replace_all(KEY, "c")
    assert config.global_values(KEY)[0] == ["c"]


def test_unset_all_of_a_missing_key_is_a_git_error(config) -> None:
    with pytest.raises(gitconfig.GitError):
        config.unset_all(KEY)


def test_add_goes_after_the_same_section(config) -> None:
    config.add(KEY, "a")
    config.add("credential.helper", "generic")
    config.add(KEY, "b")
    assert [(u, v) for u, v, _o in config.helper_entries()] == [(URL, "a"), (URL, "b"), ("", "generic")]


def test_remove_section_drops_its_keys_and_tolerates_absence(config) -> None:
    config.add(KEY, "a")
    config.add("credential.helper", "generic")
    config.remove_section(f"credential.{URL}")
    config.remove_section(f"credential.{URL}")
    assert config.global_names() == ["credential.helper"]


def test_setup_twice_then_unset(config) -> None:
    first = same(gitconfig.setup(config=config), config)
    assert first[0] == f'{URL}: set {KEY} = "" then {OURS} in <origin>'
    assert config.global_values(KEY)[0] == ["", OURS]
    again = same(gitconfig.setup(config=config), config)
    assert again[0] == f"{URL}: git already asks only {OURS} in <origin>; nothing changed"
    gone = same(gitconfig.setup(unset=True, config=config), config)
    assert gone[0] == f"{URL}: removed {KEY} in <origin>"
    assert config.global_names() == []


def test_setup_replaces_and_unset_keeps_what_others_wrote(config) -> None:
    config.add(KEY, "store")
    assert same(gitconfig.setup(config=config), config)[0].endswith("(replaced: store)")
    config.add(KEY, "cache")
    line = same(gitconfig.setup(unset=True, config=config), config)[0]
    assert line == f"{URL}: removed this helper from {KEY} in <origin>; kept what others wrote: 'cache'"
    assert config.global_values(KEY)[0] == ["cache"]


def test_helpers_for_applies_resets_and_url_matching(config) -> None:
    config.add("credential.helper", "generic")
    config.add("credential.https://github.com.helper", "gh")
    gitconfig.setup(config=config)
    assert [v for v, _o in gitconfig.helpers_for(URL, config=config)] == [OURS]
    assert [v for v, _o in gitconfig.helpers_for("https://github.com", config=config)] == ["generic", "gh"]


def test_status_report_from_either_config(config, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gitconfig, "starts", lambda helper: None)
    report = commands.status_report(config)
    assert "git will not ask this helper for https://huggingface.co; fix: git-credential-hf setup" in report.problems
    gitconfig.setup(config=config)
    report = commands.status_report(config)
    assert report.problems == ["not logged in; fix: git-credential-hf login"]
    assert ("git", f"{URL} → {OURS}") in report.lines


# --- issue 14: tests that kill mutants (keep this block at the end of the file) ------------------


def test_unset_drops_the_emptied_section_header(config) -> None:
    gitconfig.setup(config=config)
    gitconfig.setup(unset=True, config=config)
    if isinstance(config, gitconfig.MemoryConfig):
        assert config.sections == []
    else:
        assert "credential" not in open(os.environ["GIT_CONFIG_GLOBAL"]).read()
