"""Wrong model specs and tuning variables are one usage error naming the part that is wrong; a model that cannot
load says why in one line; Retry-After dates are honoured; identities are built without loading anything."""

from __future__ import annotations

import email.utils
import os
import shutil
from pathlib import Path

import pytest

from pytest_trustllm.cases import GenParams
from pytest_trustllm.models import smollm2
from pytest_trustllm.models.base import ModelError, ModelUnavailable, TransientModelError
from pytest_trustllm.models.env import openai_timeout, retry_settings
from pytest_trustllm.models.hf import (
    HFModel,
    config_fingerprint,
    first_meaningful_line,
    identity_of,
    parse_spec,
    weights_fingerprint,
)
from pytest_trustllm.models.openai_api import OpenAIModel, retry_after
from pytest_trustllm.models.openai_api import parse_spec as parse_openai
from pytest_trustllm.models.replay import ReplayModel, replay_model
from pytest_trustllm.models.retry import AdaptiveLimit, RetryPolicy, generate_with_retries


@pytest.mark.parametrize(("url", "reason"), [
    ("http://127.0.0.1:99999/v1", "Port out of range 0-65535"),
    ("http://127.0.0.1:abc/v1", "Port could not be cast to integer value as 'abc'"),
    ("http://[::1/v1", "Invalid IPv6 URL"),
])
def test_an_unparsable_url_is_a_usage_error_naming_it(url, reason):
    with pytest.raises(pytest.UsageError) as info:
        parse_openai(f"openai:m@{url}")
    assert str(info.value) == (f"--trust-model=openai:m@{url}: {url!r} is not a valid URL ({reason}); "
                               "e.g. http://127.0.0.1:8000/v1")


def test_an_ipv6_endpoint_keeps_its_brackets():
    assert parse_openai("openai:m@http://[::1]:8000/v1/") == ("m", "http://[::1]:8000/v1")


def test_url_credentials_never_reach_a_message():
    with pytest.raises(pytest.UsageError) as info:
        parse_openai("openai:m@http://bob:sk-test-SECRET123@127.0.0.1:99999/v1")
    assert "SECRET123" not in str(info.value) and "bob" not in str(info.value)
    assert str(info.value).startswith("--trust-model=openai:m@http://***@127.0.0.1:99999/v1: ")


@pytest.mark.parametrize(("option", "expected"), [
    ("batch_size=abc", "batch_size='abc': expected a positive whole number"),
    ("batch_size=0", "batch_size='0': expected a positive whole number"),
    ("batch_size=-1", "batch_size='-1': expected a positive whole number"),
    ("threads=abc", "threads='abc': expected a positive whole number"),
    ("threads=0", "threads='0': expected a positive whole number"),
    ("device=tpu", "device='tpu': expected cpu, cuda, cuda:N, mps, xpu or xpu:N"),
    ("dtype=foo", "dtype='foo': expected bfloat16, float16 or float32"),
    ("trust_remote_code=maybe", "trust_remote_code='maybe': expected 1 or 0"),
])
def test_wrong_hf_options_are_one_usage_error_naming_them(option, expected):
    with pytest.raises(pytest.UsageError) as info:
        parse_spec(f"hf:org/model?{option}")
    assert str(info.value) == f"--trust-model=hf:org/model?{option}: {expected}"


def test_good_hf_options_pass():
    assert parse_spec("hf:org/m?batch_size=32&threads=2&device=cuda:1&dtype=bfloat16&trust_remote_code=0") == (
        "org/m", {"batch_size": "32", "threads": "2", "device": "cuda:1", "dtype": "bfloat16",
                  "trust_remote_code": "0"})


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("TRUSTLLM_RETRIES", "-1", "TRUSTLLM_RETRIES='-1': expected a whole number >= 0"),
    ("TRUSTLLM_RETRIES", "abc", "TRUSTLLM_RETRIES='abc': expected a whole number >= 0"),
    ("TRUSTLLM_RETRIES", "2.5", "TRUSTLLM_RETRIES='2.5': expected a whole number >= 0"),
    ("TRUSTLLM_BACKOFF_S", "abc", "TRUSTLLM_BACKOFF_S='abc': expected a number >= 0"),
    ("TRUSTLLM_BACKOFF_S", "-0.5", "TRUSTLLM_BACKOFF_S='-0.5': expected a number >= 0"),
    ("TRUSTLLM_BACKOFF_MAX_S", "nan", "TRUSTLLM_BACKOFF_MAX_S='nan': expected a number >= 0"),
])
def test_wrong_retry_variables_are_one_usage_error(monkeypatch, name, value, expected):
    monkeypatch.setenv(name, value)
    for function in (retry_settings, RetryPolicy.from_env):
        with pytest.raises(pytest.UsageError) as info:
            function()
        assert str(info.value) == expected


@pytest.mark.parametrize("value", ["abc", "-1", "0", "inf"])
def test_a_timeout_must_be_a_positive_number(monkeypatch, value):
    monkeypatch.setenv("TRUSTLLM_OPENAI_TIMEOUT", value)
    with pytest.raises(pytest.UsageError) as info:
        openai_timeout()
    assert str(info.value) == f"TRUSTLLM_OPENAI_TIMEOUT={value!r}: expected a number > 0"
    with pytest.raises(pytest.UsageError):
        OpenAIModel("openai:m@http://127.0.0.1:9/v1", check=False)


def test_unset_variables_take_the_defaults(monkeypatch):
    for name in ("TRUSTLLM_RETRIES", "TRUSTLLM_BACKOFF_S", "TRUSTLLM_BACKOFF_MAX_S", "TRUSTLLM_OPENAI_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    assert retry_settings() == {"retries": 5, "backoff_s": 0.5, "backoff_max_s": 20.0}
    assert openai_timeout() == 120.0
    monkeypatch.setenv("TRUSTLLM_RETRIES", "0")
    assert RetryPolicy.from_env().retries == 0


def test_zero_retries_means_one_attempt_and_a_clear_error():
    class Failing:
        calls = 0

        async def agenerate(self, prompt, params):
            self.calls += 1
            raise TransientModelError("HTTP 503: busy")

    import asyncio

    model = Failing()
    for retries in (0, -1):  # a policy built in code with a negative count still makes one attempt
        with pytest.raises(ModelError, match=r"HTTP 503: busy \(gave up after 1 attempts\)"):
            asyncio.run(generate_with_retries(model, "p", GenParams(), AdaptiveLimit(1), RetryPolicy(retries=retries)))
    assert model.calls == 2


def test_retry_after_as_an_http_date_is_honoured_and_capped():
    now = 1_700_000_000.0
    in_30_s = email.utils.formatdate(now + 30, usegmt=True)
    assert retry_after({"retry-after": in_30_s}, now=now) == 30.0
    assert retry_after({"retry-after": email.utils.formatdate(now - 30, usegmt=True)}, now=now) == 0.0
    far = retry_after({"retry-after": "Wed, 21 Oct 2099 07:28:00 GMT"}, now=now)
    assert far > 2_000_000_000 - now
    policy = RetryPolicy()
    assert policy.delay(0, TransientModelError("429", retry_after=far, rate_limited=True)) == 120.0  # the cap
    assert retry_after({"retry-after": "soon"}) is None  # unreadable: the backoff decides
    assert retry_after({"retry-after": "2"}) == 2.0 and retry_after({"retry-after-ms": "250"}) == 0.25


def test_first_meaningful_line_keeps_the_type_and_what_a_colon_introduces():
    assert first_meaningful_line(ValueError("\n\nCouldn't instantiate the backend tokenizer from one of: \n"
                                            "(1) a tokenizers file\n(2) a slow tokenizer\n")) == (
        "ValueError: Couldn't instantiate the backend tokenizer from one of: (1) a tokenizers file")
    assert first_meaningful_line(OSError("no such file\nsecond line")) == "OSError: no such file"
    assert first_meaningful_line(RuntimeError()) == "RuntimeError"


def test_an_empty_folder_says_what_is_missing(tmp_path):
    with pytest.raises(ModelUnavailable) as info:
        HFModel(f"hf:{tmp_path}")
    assert str(info.value) == (f"no config.json and no tokenizer files (tokenizer.json, tokenizer.model, "
                               f"vocab.json, ...) in {tmp_path}: not a transformers model folder")
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelUnavailable, match=r"^no tokenizer files \(tokenizer.json"):
        HFModel(f"hf:{tmp_path}")


def test_a_truncated_weights_file_is_unavailable_with_its_type(tiny_gpt2, tmp_path):
    folder = Path(shutil.copytree(tiny_gpt2, tmp_path / "m"))
    os.truncate(folder / "model.safetensors", 1000)
    with pytest.raises(ModelUnavailable) as info:
        HFModel(f"hf:{folder}?dtype=float32&device=cpu")
    assert str(info.value).startswith(f"cannot load '{folder}' with transformers: SafetensorError: ")
    assert "\n" not in str(info.value)


def test_local_identity_is_built_without_loading_and_follows_every_file_that_shapes_answers(tiny_gpt2, tmp_path):
    folder = Path(shutil.copytree(tiny_gpt2, tmp_path / "m"))
    loaded = HFModel(f"hf:{folder}?dtype=float32&device=cpu").identity()
    (folder / "model.safetensors").write_bytes(b"not weights")  # identity_of never opens it
    os.utime(folder / "model.safetensors", (1, 1))
    first = identity_of(f"hf:{folder}?dtype=float32&device=cpu")
    assert {k: v for k, v in first.items() if k != "weights"} == {k: v for k, v in loaded.items() if k != "weights"}
    assert first["weights"] != loaded["weights"]

    config = config_fingerprint(folder)
    (folder / "README.md").write_text("documentation does not change answers")
    assert config_fingerprint(folder) == config
    for name in ("chat_template.jinja", "tokenizer_config.json", "tokenizer.json", "config.json",
                 "generation_config.json"):
        path = folder / name
        path.write_bytes(path.read_bytes() + b" ")
        assert config_fingerprint(folder) != config, name
        config = config_fingerprint(folder)
    templates = folder / "additional_chat_templates"
    templates.mkdir()
    (templates / "tool_use.jinja").write_text("{{ messages }}")
    assert config_fingerprint(folder) != config
    assert weights_fingerprint(folder) == first["weights"]  # only weight files are in the weights digest


def test_replay_stand_ins_have_the_live_identity_and_never_generate(monkeypatch, tiny_gpt2):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("TRUSTLLM_OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    api = replay_model("openai:gpt-4o-mini")  # the OpenAI API without a key: fine, nothing is sent
    assert isinstance(api, ReplayModel) and api.kind == "api"
    assert api.identity() == {"backend": "openai", "model": "gpt-4o-mini", "endpoint": "https://api.openai.com/v1"}
    with pytest.raises(ModelError, match="--trust-replay never calls the model"):
        api.generate(["p"], GenParams())
    assert replay_model("openai:m@http://bob:pw@127.0.0.1:8/v1").identity()["endpoint"] == "http://127.0.0.1:8/v1"
    assert replay_model("rules") is None and replay_model("py:mod:fn") is None

    # smollm2: the wheel's version and this machine's dtype, without converting or loading the model
    monkeypatch.setattr(smollm2, "ensure_converted", lambda: (Path(tiny_gpt2), smollm2.gguf_file()[1]))
    monkeypatch.setattr("pytest_trustllm.models.hf.set_cpu_threads", lambda requested: None)
    live = smollm2.make_smollm2().identity()
    stand_in = replay_model("smollm2")
    assert stand_in.kind == "local" and stand_in.identity() == live


def test_replay_of_a_hub_id_missing_from_the_local_cache_says_so(monkeypatch):
    monkeypatch.setattr("pytest_trustllm.models.hf_files.cached_commit", lambda repo, revision: None)
    with pytest.raises(ModelUnavailable, match="'org/absent' is not in the local Hugging Face cache"):
        identity_of("hf:org/absent")
    monkeypatch.setattr("pytest_trustllm.models.hf_files.cached_commit", lambda repo, revision: "c0ffee")
    assert identity_of("hf:org/present?dtype=float32")["revision"] == "c0ffee"


def test_a_429_with_an_http_date_carries_the_wait_to_the_retry(monkeypatch):
    import asyncio

    import httpx2

    def handler(request):
        return httpx2.Response(429, json={"error": {"message": "slow down", "type": "x", "code": None}},
                               headers={"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"})

    monkeypatch.setenv("TRUSTLLM_OPENAI_TIMEOUT", "5")
    model = OpenAIModel("openai:m@http://127.0.0.1:9/v1", check=False, transport=httpx2.MockTransport(handler))
    with pytest.raises(TransientModelError) as info:
        asyncio.new_event_loop().run_until_complete(model.agenerate("hi", GenParams()))
    assert info.value.rate_limited and info.value.retry_after > 365 * 24 * 3600
    assert RetryPolicy().delay(0, info.value) == 120.0
