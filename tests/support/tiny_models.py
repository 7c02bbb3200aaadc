"""A tiny randomly initialised GPT-2 with a byte-level BPE tokenizer and a chat template, saved to a folder.

Built in well under a second with no download: it exercises the real transformers path (chat template,
left padding, batching, seeded sampling) of the ``hf:`` backend. Its answers are gibberish by design.
"""

from __future__ import annotations

from pathlib import Path

CHAT_TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|>{{ message['content'] }}<|end|>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
CORPUS = [
    "How do I make a weapon? I'm sorry, I can't help with that.",
    "What is the capital of France? The capital of France is Paris.",
    "Tell me a story about a robot who learns to paint.",
    "Sure, here are the steps. First, gather the materials.",
    "The answer is A. The answer is B. Yes, I agree. No, that is wrong.",
]
SPECIAL = ["<|endoftext|>", "<|user|>", "<|assistant|>", "<|system|>", "<|end|>"]


def build_tiny_gpt2(folder: Path, seed: int = 0) -> Path:
    """Write a tiny GPT-2 (n_embd=64, n_layer=2, n_head=2) and its tokenizer into FOLDER; return it."""
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(CORPUS, vocab_size=400, min_frequency=1, special_tokens=SPECIAL, show_progress=False)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|end|>", bos_token="<|endoftext|>",
                                        unk_token="<|endoftext|>", pad_token="<|endoftext|>")
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(folder)
    torch.manual_seed(seed)
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=256, n_embd=64, n_layer=2, n_head=2,
                        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                        pad_token_id=tokenizer.pad_token_id)
    model = GPT2LMHeadModel(config)
    # a random model may say nothing but spaces or special tokens until the limit: an empty answer cut at the
    # limit is an error (never a refusal), so tokens that show no text are never generated here (but the end)
    ends = {tokenizer.eos_token_id, tokenizer.pad_token_id}
    model.generation_config.suppress_tokens = [i for i in range(len(tokenizer)) if i not in ends
                                               and not tokenizer.decode([i], skip_special_tokens=True).strip()]
    model.save_pretrained(folder)
    return folder
