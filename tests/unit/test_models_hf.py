"""The transformers backend on a tiny random GPT-2: chat template, left padding, batching, seeds, options."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_trustllm.cases import GenParams
from pytest_trustllm.models.base import ModelUnavailable
from pytest_trustllm.models.hf import HFModel, parse_spec

PROMPTS = ["hi", "What is the capital of France? Tell me a long story about it.", "Sure, here are the steps."]


@pytest.fixture(scope="module")
def tiny(tiny_gpt2) -> HFModel:
    return HFModel(f"hf:{tiny_gpt2}?dtype=float32&device=cpu&batch_size=2")


def test_options_after_the_path(tiny_gpt2):
    assert parse_spec("hf:org/model?trust_remote_code=1&revision=abc") == (
        "org/model", {"trust_remote_code": "1", "revision": "abc"})
    with pytest.raises(pytest.UsageError, match="unknown option"):
        parse_spec("hf:org/model?trust_remote=1")


def test_loads_with_safe_defaults(tiny, tiny_gpt2):
    assert tiny.trust_remote_code is False  # never runs repository code unless asked
    assert tiny.kind == "local" and tiny.batch_size == 2 and tiny.device == "cpu"
    identity = tiny.identity()
    assert identity["backend"] == "hf" and identity["model"] == str(Path(tiny_gpt2).resolve())
    assert identity["dtype"] == "float32" and len(identity["weights"]) == 16


def test_prompts_are_wrapped_in_the_chat_template(tiny):
    assert tiny.chat_text("Is it safe?") == "<|user|>Is it safe?<|end|><|assistant|>"


def test_batches_are_left_padded(tiny):
    tokenizer = tiny.tokenizer
    enc = tokenizer([tiny.chat_text(p) for p in PROMPTS[:2]], return_tensors="pt", padding=True,
                    add_special_tokens=False)
    short = enc["attention_mask"][0]
    assert short[0] == 0 and short[-1] == 1  # padding on the left: generation continues from real tokens


def test_batched_greedy_answers_equal_one_at_a_time(tiny):
    params = GenParams(max_new_tokens=6)
    batched = tiny.generate(PROMPTS, params)
    single = [tiny.generate([p], params)[0] for p in PROMPTS]
    assert batched == single
    assert tiny.generate(list(reversed(PROMPTS)), params) == list(reversed(batched))  # order kept


def test_sampling_is_seeded(tiny):
    hot = GenParams(temperature=1.0, max_new_tokens=8, seed=1)
    first, again = tiny.generate(PROMPTS, hot), tiny.generate(PROMPTS, hot)
    assert first == again
    assert tiny.generate(PROMPTS, hot.replace(seed=2)) != first


def test_a_model_without_chat_template_is_refused(tiny_gpt2, tmp_path):
    import shutil

    copy = Path(shutil.copytree(tiny_gpt2, tmp_path / "no-template"))
    (copy / "chat_template.jinja").unlink(missing_ok=True)
    config = json.loads((copy / "tokenizer_config.json").read_text())
    config.pop("chat_template", None)
    (copy / "tokenizer_config.json").write_text(json.dumps(config))
    with pytest.raises(ModelUnavailable, match="no chat template"):
        HFModel(f"hf:{copy}")


def test_a_model_with_its_own_code_says_how_to_allow_it(tiny_gpt2, tmp_path):
    """trust_remote_code stays off unless asked; the message says how to ask."""
    import shutil

    copy = Path(shutil.copytree(tiny_gpt2, tmp_path / "custom-code"))
    config = json.loads((copy / "config.json").read_text())
    config.update(model_type="mycustom", auto_map={"AutoConfig": "configuration_my.MyConfig"})
    (copy / "config.json").write_text(json.dumps(config))
    (copy / "configuration_my.py").write_text("raise SystemExit('this code must never run')\n")
    with pytest.raises(ModelUnavailable) as info:
        HFModel(f"hf:{copy}?dtype=float32")
    assert "(the model needs its repository's own code: add ?trust_remote_code=1 if you trust it)" in str(info.value)


def test_a_missing_model_is_unavailable_with_one_line(tmp_path):
    with pytest.raises(ModelUnavailable) as info:
        HFModel(f"hf:{tmp_path / 'nowhere'}")
    assert str(info.value) == (f"no model folder at {tmp_path / 'nowhere'} (a local path; for a Hugging Face hub "
                               "model give its id, e.g. hf:HuggingFaceTB/SmolLM2-135M-Instruct)")
    with pytest.raises(ModelUnavailable, match="cannot load 'no-such-org/no-such-model' with transformers") as info:
        HFModel("hf:no-such-org/no-such-model")  # a hub id, offline here: transformers' own reason, one line
    assert "\n" not in str(info.value)


def test_an_answer_that_used_every_new_token_says_it_was_cut(tiny):
    # the random tiny model never says its end token within 4 tokens: each answer is cut at the limit
    answers = tiny.generate(PROMPTS, GenParams(max_new_tokens=4))
    assert [a.cut for a in answers] == [True, True, True]
    first = tiny.tokenizer(answers[0], add_special_tokens=False)["input_ids"][0]
    config = tiny.model.generation_config
    saved = config.eos_token_id
    config.eos_token_id = first  # now the first prompt's answer ends after one token: not cut
    try:
        answer = tiny.generate(PROMPTS[:1], GenParams(max_new_tokens=4))[0]
    finally:
        config.eos_token_id = saved
    assert answer.cut is False


def test_an_answer_whose_end_comes_right_at_the_limit_is_whole(tiny):
    # QA: "Yes." at --trust-max-tokens=2 (its end token due as the third) was counted as cut
    import torch

    def greedy(prompt: str) -> list[int]:
        enc = tiny.tokenizer([tiny.chat_text(prompt)], return_tensors="pt", add_special_tokens=False)
        with torch.inference_mode():
            out = tiny.model.generate(**enc, max_new_tokens=12, do_sample=False, temperature=None, top_p=None,
                                      top_k=None, pad_token_id=tiny.tokenizer.pad_token_id)
        return out[0, enc["input_ids"].shape[1]:].tolist()

    # a prompt and a limit whose next greedy token was not said before: made the end token, the answer ends
    # right after LIMIT tokens
    prompt, tokens, limit = next((p, t, k) for p in PROMPTS for t in [greedy(p)] for k in range(2, len(t))
                                 if t[k] not in t[:k])
    config = tiny.model.generation_config
    saved = config.eos_token_id
    config.eos_token_id = tokens[limit]
    try:
        whole = tiny.generate([prompt], GenParams(max_new_tokens=limit))[0]
        cut = tiny.generate([prompt], GenParams(max_new_tokens=limit - 1))[0]
    finally:
        config.eos_token_id = saved
    assert whole.cut is False and cut.cut is True
    assert whole == tiny.tokenizer.decode(tokens[:limit], skip_special_tokens=True).strip()  # the same tokens
