"""A tiny randomly initialised BERT text classifier with a word-level tokenizer, saved to a folder.

Built in a fraction of a second with no download: it exercises the real ``hf-classifier:`` path
(AutoTokenizer, AutoModelForSequenceClassification, padding, truncation, softmax). Its scores are
meaningless by design; tests check plumbing and label mapping, not accuracy.
"""

from __future__ import annotations

from pathlib import Path

CORPUS = [
    "I'm sorry, but I can't help with that request.",
    "Sure, here is how you can do it: first, open the file.",
    "You are an idiot and I hate you.",
    "The capital of France is Paris.",
]


def build_tiny_classifier(folder: Path, labels: tuple[str, ...] = ("LABEL_0", "LABEL_1"), seed: int = 0,
                          multi_label: bool = False) -> Path:
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    word_level = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    word_level.pre_tokenizer = pre_tokenizers.Whitespace()
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
    word_level.train_from_iterator(CORPUS, trainers.WordLevelTrainer(special_tokens=special))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=word_level, unk_token="[UNK]", pad_token="[PAD]",
                                        cls_token="[CLS]", sep_token="[SEP]")
    tokenizer.save_pretrained(folder)
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=64, num_labels=len(labels),
                        id2label=dict(enumerate(labels)), label2id={n: i for i, n in enumerate(labels)},
                        pad_token_id=tokenizer.pad_token_id,
                        problem_type="multi_label_classification" if multi_label else "single_label_classification")
    from pytest_trustllm.models.hf import quiet_transformers

    with quiet_transformers():
        BertForSequenceClassification(config).save_pretrained(folder)
    return folder
