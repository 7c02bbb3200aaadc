"""A path option written with a space (``--trust-cache PATH``) whose PATH exists can move pytest's rootdir.

pytest chooses its rootdir and ini file before it knows a plugin's options, so it takes that PATH for a test
path: the rootdir becomes a common ancestor of PATH and the tests, the suite's ``pytest.ini`` is no longer
read (another model, other judges, other gates) and test ids change (regression baselines then compare
nothing). ``--trust-cache=PATH`` is read correctly. This check stops such a run with a usage error naming
the option and what was lost.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest

# config files pytest reads, and the text that makes one a pytest config (None: any such file is one)
CONFIG_FILES = {"pytest.ini": None, ".pytest.ini": None, "pyproject.toml": "[tool.pytest",
                "tox.ini": "[pytest]", "setup.cfg": "[tool:pytest]"}


def config_file(folder: Path) -> Path | None:
    """The pytest config file in FOLDER, if it holds one."""
    for name, marker in CONFIG_FILES.items():
        path = folder / name
        if not path.is_file():
            continue
        if marker is None:
            return path
        try:
            if marker in path.read_text(encoding="utf-8", errors="replace"):
                return path
        except OSError:
            continue
    return None


def common_ancestor(invocation: Path, args: Iterable[str]) -> Path:
    """The folder pytest starts its rootdir search from: the common ancestor of the existing paths in ARGS
    (a file counts as its folder), else the invocation folder."""
    paths = []
    for arg in args:
        if arg.startswith("-"):
            continue
        path = (invocation / arg.split("::")[0]).resolve()
        if path.exists():
            paths.append(path if path.is_dir() else path.parent)
    if not paths:
        return invocation
    return Path(os.path.commonpath([str(p) for p in paths]))


def misread_values(args: Sequence[str], options: Iterable[str], invocation: Path) -> list[tuple[str, str]]:
    """(option, value) pairs written with a space whose value is an existing path."""
    names = set(options)
    return [(option, value) for option, value in zip(args, args[1:], strict=False)
            if option in names and not value.startswith("-") and (invocation / value).exists()]


def first_config_file(start: Path) -> Path | None:
    """The config file pytest finds from START: in START or the nearest folder above it that holds one."""
    return next((found for folder in (start, *start.parents) if (found := config_file(folder))), None)


def check_rootdir(config: pytest.Config, options: Iterable[str]) -> None:
    """A ``pytest.UsageError`` when a space-separated value of OPTIONS changed the ini file pytest read, or
    (without any ini file, and no ``--rootdir``) the rootdir, from what the tests alone lead to."""
    option = config.option
    if getattr(option, "inifilename", None):
        return  # the user chose the ini file: nothing was guessed
    invocation = Path(config.invocation_params.dir).resolve()
    args = [*config.invocation_params.args, *shlex.split(os.environ.get("PYTEST_ADDOPTS", ""))]
    misread = misread_values(args, options, invocation)
    if not misread:
        return
    explicit = config.args if config.args_source == pytest.Config.ArgsSource.ARGS else []
    start = common_ancestor(invocation, explicit)
    expected = first_config_file(start)
    actual = Path(config.inipath).resolve() if config.inipath else None
    name, value = misread[0]
    if expected != actual:
        lost = (f"so {expected} is not read (its settings, markers and gates are ignored)" if expected
                else f"so {actual} is read, which the tests alone would not use")
    elif actual is None and not getattr(option, "rootdir", None) and Path(config.rootpath).resolve() != (
            next((folder for folder in (start, *start.parents) if (folder / "setup.py").is_file()), None)
            or Path(os.path.commonpath([str(invocation), str(start)]))):
        lost = "so test ids and the default cache place change"
    else:
        return
    raise pytest.UsageError(f"{name} {value}: pytest took this existing path for a test path when it chose the "
                            f"rootdir ({config.rootpath}), {lost}; write {name}={value}")
