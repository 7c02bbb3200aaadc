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


def misread_values(args: Sequence[str], options: Iterable[str], invocation: Path) -> list[tuple[str, str]]:
    """(option, value) pairs written with a space whose value is an existing path."""
    names = set(options)
    return [(option, value) for option, value in zip(args, args[1:], strict=False)
            if option in names and not value.startswith("-") and _exists(invocation / value)]


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except (OSError, ValueError):  # a name too long for a path (a spec, a URL): not a path
        return False


def setup_from(config: pytest.Config, args: Sequence[str]) -> tuple[Path, Path | None] | None:
    """The (rootdir, ini file) pytest would choose from ARGS alone, by pytest's own ``determine_setup``; None
    where this pytest's version of it cannot be called (then nothing is checked)."""
    import inspect

    try:
        from _pytest.config.findpaths import determine_setup

        accepted = inspect.signature(determine_setup).parameters
        known = {"inifile": None, "override_ini": None, "args": list(args),
                 "rootdir_cmd_arg": getattr(config.option, "rootdir", None) or None,
                 "invocation_dir": Path(config.invocation_params.dir)}
        found = determine_setup(**{name: value for name, value in known.items() if name in accepted})
    except Exception:  # a private API: a change in it must never break a run
        return None
    return Path(found[0]).resolve(), Path(found[1]).resolve() if found[1] else None


def check_rootdir(config: pytest.Config, options: Iterable[str]) -> None:
    """A ``pytest.UsageError`` when a space-separated value of OPTIONS changed the rootdir or the ini file pytest
    chose, from what the test paths alone give (pytest's own ``determine_setup`` on them)."""
    if getattr(config.option, "inifilename", None):
        return  # the user chose the ini file: nothing was guessed
    invocation = Path(config.invocation_params.dir).resolve()
    args = [*config.invocation_params.args, *shlex.split(os.environ.get("PYTEST_ADDOPTS", ""))]
    misread = misread_values(args, options, invocation)
    if not misread:
        return
    explicit = [str(a) for a in config.args] if config.args_source == pytest.Config.ArgsSource.ARGS else []
    expected = setup_from(config, explicit)
    if expected is None:
        return
    root, ini = expected
    actual_ini = Path(config.inipath).resolve() if config.inipath else None
    if ini != actual_ini:
        lost = (f"so {ini} is not read (its settings, markers and gates are ignored)" if ini
                else f"so {actual_ini} is read, which the tests alone would not use")
    elif root != Path(config.rootpath).resolve():
        lost = f"so test ids and the default cache place change (the tests alone give the rootdir {root})"
    else:
        return
    name, value = misread[0]
    raise pytest.UsageError(f"{name} {value}: pytest took this existing path for a test path when it chose the "
                            f"rootdir ({config.rootpath}), {lost}; write {name}={value}")
