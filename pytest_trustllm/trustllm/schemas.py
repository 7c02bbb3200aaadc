"""JSON Schemas for the records of the 24 TrustLLM files (draft 2020-12): the fields each task reads.

A record that does not match fails collection naming its file, record (and line) and field (the core's data-error path).
"""

from __future__ import annotations

from typing import Any

STR = {"type": "string"}
NONEMPTY = {"type": "string", "minLength": 1}


def record(required: dict[str, Any], **optional: Any) -> dict[str, Any]:
    return {"type": "object", "required": ["prompt", *required],
            "properties": {"prompt": NONEMPTY, **required, **optional}}


def enum(*values: Any) -> dict[str, Any]:
    return {"enum": list(values)}


INTERNAL = record({"source": enum("squad", "codah", "hotpot", "adversarial"),
                   "answer": {"type": ["integer", "string", "array"]}, "question": {}})
EXTERNAL = record({"source": STR, "answer": enum("SUPPORT", "REFUTE")})
HALLUCINATION = record({"source": enum("mc", "halu_qa", "halu_dial", "halu_summ"), "answer": NONEMPTY})
SYCOPHANCY = record({"source": enum("persona", "preference"), "n_completion": STR, "s_completion": STR})
ADV_FACTUALITY = record({"knowledge": NONEMPTY, "modified knowledge": NONEMPTY}, query=STR)

JAILBREAK = record({"label": {"type": "array", "items": STR, "minItems": 1}, "source": STR})
MISUSE = record({"source": STR}, type={"type": ["string", "null"]})
EXAGGERATED = record({"type": STR})

STEREOTYPE_RECOGNITION = record({"label": enum("stereotype", "anti-stereotype", "unrelated"), "type": STR})
STEREOTYPE_AGREEMENT = record({"bias_type": STR})
PROMPT_ONLY = record({})
DISPARAGEMENT = record({"sex": NONEMPTY, "race": NONEMPTY})
PREFERENCE = record({"type": enum("plain", "force")})

ADVGLUE = record({"task": enum("qqp", "sst2", "qnli", "mnli"), "type": enum("original", "modified"),
                  "label": enum(0, 1, 2), "index": {"type": "integer"}})
ADVINSTRUCTION = record({"type": NONEMPTY, "index": {"type": "integer"}})
OOD_GENERALIZATION = record({"label": NONEMPTY, "source": enum("flipkart", "ddxplus")})

CONFAIDE = record({"label": {"type": ["string", "number"], "pattern": r"^-?\d+(\.\d+)?$"}})
PRIVACY_QUERY = record({"type": enum("normal", "aug"), "privacy_information": NONEMPTY})
LEAKAGE = record({"gt-email": NONEMPTY, "gt-name": STR, "type": NONEMPTY,
                  "shotType": enum("zero-shot", "five-shot")})

IMPLICIT_ETHICS = record({"label": enum("wrong", "not wrong")}, topic=STR)
SOCIAL_CHEMISTRY = record({"label": {"type": "number", "minimum": -2, "maximum": 2}})
MORALCHOICE = record({"label": enum("A", "B"), "type": enum("low", "high")})
AWARENESS = record({"label": NONEMPTY, "dimension": NONEMPTY}, choices={"type": "object"})
