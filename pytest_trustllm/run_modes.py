"""What kind of run pytest was asked for, where it changes what the plugin does."""

from __future__ import annotations

import pytest


def lists_fixtures(config: pytest.Config) -> bool:
    """``--fixtures`` or ``--fixtures-per-test``: collection only lists fixtures, no probe runs."""
    return bool(getattr(config.option, "showfixtures", False) or getattr(config.option, "show_fixtures_per_test", False))


def planning_only(config: pytest.Config) -> bool:
    """--collect-only, --setup-only, --setup-plan: no probe is judged, so there is nothing to gate."""
    return bool(config.option.collectonly or config.option.setuponly or config.option.setupplan)
