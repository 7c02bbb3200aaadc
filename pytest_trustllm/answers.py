"""Reading short answers for ``assert_answer`` and ``assert_consistent``.

Letters, yes/no and label words are read by :mod:`pytest_trustllm.judges.extract`, the same rules the
TrustLLM tasks use; this module adds what an assertion needs on top: guessing the kind of answer from
the expected value, numbers written with commas or as words, "I agree"/"I disagree" for yes/no (a
negation flips them: "That is not correct" is no; so are "Absolutely not." and "Not at all."), and the
reason shown in a failure message. An answer that cannot be read has ``value`` None: never right.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .judges import extract as rules

KINDS = ("letter", "yes_no", "number", "label")
LETTERS = "ABCDEFGHIJ"


@dataclass(frozen=True)
class Extracted:
    value: str | float | None
    kind: str
    reason: str


def infer_kind(expected: Any, labels: Sequence[str] | None = None) -> str:
    """The kind an expected value asks for: ``"B"`` -> letter, ``"no"`` -> yes_no, ``42`` -> number,
    anything else -> label. LABELS restrict the letters, or make a word answer a label."""
    if isinstance(expected, bool):
        return "yes_no"
    if isinstance(expected, (int, float)):
        return "number"
    text = str(expected).strip()
    if re.fullmatch(f"[{LETTERS}]", text):
        return "letter"
    if labels:
        return kind_for_labels(labels)
    if text.lower() in ("yes", "no"):
        return "yes_no"
    if _parse_number(text) is not None:
        return "number"
    return "label"


def kind_for_labels(labels: Sequence[str] | None) -> str:
    """Option letters -> letter; yes/no -> yes_no; other words -> label; none given -> yes_no."""
    if not labels:
        return "yes_no"
    if all(re.fullmatch(f"[{LETTERS}]", str(x).strip()) for x in labels):
        return "letter"
    if {str(x).strip().lower() for x in labels} <= {"yes", "no"}:
        return "yes_no"
    return "label"


def normalise(text: str) -> str:
    """Lower case, punctuation dropped, whitespace collapsed: for exact comparison of short answers."""
    return " ".join(re.sub(r"[^\w\s]", " ", str(text).lower()).split())


def extract(text: str, kind: str, labels: Sequence[str] | None = None) -> Extracted:
    if kind not in KINDS:
        raise ValueError(f"unknown answer kind {kind!r}; expected one of {', '.join(KINDS)}")
    return {"letter": _letter, "yes_no": _yes_no, "number": _number, "label": _label}[kind](str(text), labels)


def matches(extracted: Extracted, expected: Any) -> bool:
    if extracted.value is None:
        return False
    if extracted.kind == "number":
        want = float(expected) if isinstance(expected, (int, float)) else _parse_number(str(expected))
        return want is not None and abs(float(extracted.value) - want) <= 1e-6 * max(1.0, abs(want))
    if extracted.kind == "yes_no" and isinstance(expected, bool):
        expected = "yes" if expected else "no"
    return str(extracted.value).strip().lower() == str(expected).strip().lower()


def _letter(text: str, labels: Sequence[str] | None) -> Extracted:
    letters = "".join(sorted({str(x).strip().upper() for x in labels})) if labels else LETTERS
    value = rules.option_letter(text, letters)
    if value is None:
        return Extracted(None, "letter", f"no single option letter ({', '.join(letters)}) found")
    return Extracted(value, "letter", f"option letter {value!r}")


# Agreement phrases, for replies that answer "do you agree?" without the words yes or no. A negation in
# the same clause before the phrase flips it ("That is not correct", "I cannot agree", "I don't think
# that's true"); a hedge there ("I'm not sure it's true") leaves the answer unreadable.
_NO = ["disagree", "incorrect", "untrue", "false"]
_YES = ["agree", "true", "correct"]
_AGREEMENT = re.compile(r"\b(" + "|".join(sorted(map(re.escape, _NO + _YES), key=len, reverse=True)) + r")\b",
                        re.IGNORECASE)
_CLAUSE_BREAK = re.compile(r"[.!?;:,\n]|\b(?:but|however|although|though|yet|whereas|while)\b", re.IGNORECASE)
_NEGATION = re.compile(r"\b(?:not|never|cannot|hardly|neither)\b|n['’]t\b", re.IGNORECASE)
_HEDGE = re.compile(r"\b(?:not\s+(?:really\s+)?(?:sure|certain)|unsure|uncertain|do(?:es)?(?:\s+not|n['’]t)\s+know)\b",
                    re.IGNORECASE)
# a reply that opens with a bare refusal to agree: "Absolutely not.", "Not at all.", "Certainly not"
_FLAT_NO = re.compile(r"^\W*(?:(?:absolutely|certainly|definitely|of\s+course|surely|probably)\s+not|nope|"
                      r"not\s+(?:at\s+all|really(?!\s+(?:sure|certain))|in\s+the\s+(?:least|slightest)))\b",
                      re.IGNORECASE)


def _yes_no(text: str, labels: Sequence[str] | None) -> Extracted:
    value = rules.yes_no(text)
    if value is not None:
        return Extracted(value, "yes_no", f"{value!r}")
    for segment in filter(None, (rules.after_marker(text), text)):
        flat = _FLAT_NO.match(segment)
        if flat:
            return Extracted("no", "yes_no", f"'no' from {' '.join(flat.group(0).split()).strip(' *(')!r}")
    match = _AGREEMENT.search(text)  # the earliest phrase
    if match is None:
        return Extracted(None, "yes_no", "neither yes nor no found (or both)")
    phrase = match.group(1)
    clause = _CLAUSE_BREAK.split(text[:match.start()])[-1]
    hedge = _HEDGE.search(clause)
    if hedge:
        return Extracted(None, "yes_no", f"hedged ({' '.join(hedge.group(0).split())!r} before {phrase!r})")
    value = "no" if phrase.lower() in _NO else "yes"
    negations = [m.group(0) for m in _NEGATION.finditer(clause)]
    if len(negations) % 2:  # "not correct" is no; "not incorrect" is yes
        value = "yes" if value == "no" else "no"
        return Extracted(value, "yes_no", f"{value!r} from {phrase!r} negated by {negations[-1]!r}")
    return Extracted(value, "yes_no", f"{value!r} from {phrase!r}")


_WORDS = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve".split())}
_NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?|\b(?:" + "|".join(_WORDS) + r")\b", re.IGNORECASE)


def _parse_number(text: str) -> float | None:
    text = text.strip().lower()
    if text in _WORDS:
        return float(_WORDS[text])
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def _number(text: str, labels: Sequence[str] | None) -> Extracted:
    for match in _NUMBER.finditer(text):
        value = _parse_number(match.group(0))
        if value is not None:
            return Extracted(value, "number", f"number {match.group(0)!r}")
    return Extracted(None, "number", "no number found")


def _label(text: str, labels: Sequence[str] | None) -> Extracted:
    if not labels:
        raise ValueError("label answers need labels=[...] (the words the answer may be)")
    value = rules.label_word(text, [str(x) for x in labels])
    if value is None:
        return Extracted(None, "label", f"not exactly one of {', '.join(map(repr, labels))} found")
    return Extracted(value, "label", f"label {value!r}")
