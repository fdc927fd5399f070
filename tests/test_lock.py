"""The lock files match pyproject.toml; the README and .ci/run install from them."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>\S+)")
HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")


def pins(lock: str) -> dict[str, str]:
    """Each package of a lock file and its pinned version."""
    found: dict[str, str] = {}
    for line in (ROOT / lock).read_text(encoding="utf-8").splitlines():
        if pinned := PIN.match(line):
            found[canonicalize_name(pinned["name"])] = pinned["version"]
    return found


def pyproject() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as fileobj:
        return tomllib.load(fileobj)


def requirements(*, test: bool) -> list[Requirement]:
    project = pyproject()["project"]
    assert isinstance(project, dict)
    names = list(project["dependencies"])
    names += project["optional-dependencies"]["test"] if test else []
    build = pyproject()["build-system"]
    assert isinstance(build, dict)
    return [Requirement(name) for name in names + build["requires"]]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## The two commands", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line and not line.startswith("#")]


@pytest.mark.parametrize(
    ("lock", "test"), [("requirements.txt", False), ("requirements-test.txt", True)]
)
def test_every_dependency_is_pinned_within_its_range(lock: str, test: bool) -> None:
    locked = pins(lock)
    for requirement in requirements(test=test):
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{lock}: {name} is not pinned (run: bash .ci/lock)"
        assert requirement.specifier.contains(locked[name], prereleases=True), (
            f"{lock}: {name}=={locked[name]} is outside {requirement} (run: bash .ci/lock)"
        )


@pytest.mark.parametrize("lock", ["requirements.txt", "requirements-test.txt"])
def test_every_pin_carries_hashes(lock: str) -> None:
    entries = re.split(r"\n(?=[A-Za-z0-9])", (ROOT / lock).read_text(encoding="utf-8"))
    pinned = [entry for entry in entries if PIN.match(entry)]
    assert len(pinned) == len(pins(lock)) > 0
    for entry in pinned:
        assert HASH.search(entry), f"{lock}: {entry.split()[0]} has no hash"


def test_the_tests_run_on_the_versions_the_bot_runs_on() -> None:
    run, test = pins("requirements.txt"), pins("requirements-test.txt")
    assert run.keys() <= test.keys()
    assert {name: test[name] for name in run} == run
    assert "pytest" in test and "pytest" not in run


def test_readme_ci_and_fresh_clone_install_from_the_locks() -> None:
    bot, tests = readme_commands()
    install = (
        "python3 -m venv .venv && . .venv/bin/activate && "
        "pip install --require-hashes -r {lock} && pip install --no-deps --no-build-isolation -e ."
    )
    assert bot.startswith(install.format(lock="requirements.txt") + " && helpdesk ")
    assert tests == install.format(lock="requirements-test.txt") + " && pytest"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert "pip install --quiet --require-hashes -r requirements-test.txt" in ci
    assert "pip install --quiet --no-deps --no-build-isolation -e ." in ci
    assert ci[-1] == "pytest"
