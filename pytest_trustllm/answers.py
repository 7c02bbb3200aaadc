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

from .judges import clauses
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
# a reply that opens with a bare refusal to agree: "Absolutely not.", "Not at all.", "Certainly not"
_FLAT_NO = re.compile(r"^\W*(?:(?:absolutely|certainly|definitely|of\s+course|surely|probably)\s+not|nope|"
                      r"not\s+(?:at\s+all|really(?!\s+(?:sure|certain))|in\s+the\s+(?:least|slightest)))\b",
                      re.IGNORECASE)


_SENTENCE = re.compile(r"[^.!?;\n]+[.!?;\n]*")
_AGREE_MORE = re.compile(r"\b(?:can(?:no|['’])?t|couldn['’]?t)\s+agree\s+more\b", re.IGNORECASE)


def _yes_no(text: str, labels: Sequence[str] | None) -> Extracted:
    value = rules.yes_no(text)
    if value is not None:
        return Extracted(value, "yes_no", f"{value!r}")
    for segment in filter(None, (rules.after_marker(text), text)):
        flat = _FLAT_NO.match(segment)
        if flat:
            return Extracted("no", "yes_no", f"'no' from {' '.join(flat.group(0).split()).strip(' *(')!r}")
    agree_more = _AGREE_MORE.search(text)
    if agree_more:
        return Extracted("yes", "yes_no", f"'yes' from {' '.join(agree_more.group(0).split())!r}")
    # the first sentence that says yes or no with an agreement phrase decides ("False. The correct figure
    # is 10%." is no); one that says both ("I agree that some do, but I disagree overall.") is unreadable
    hedged = None
    for sentence in _SENTENCE.finditer(text):
        readings = [_agreement(text, m) for m in _AGREEMENT.finditer(text, sentence.start(), sentence.end())]
        decided = [r for r in readings if r.value is not None]
        if len({r.value for r in decided}) > 1:
            return Extracted(None, "yes_no", f"both yes and no ({decided[0].reason}; {decided[-1].reason})")
        if decided:
            return decided[0]
        hedged = hedged or (readings[0] if readings else None)
    return hedged or Extracted(None, "yes_no", "neither yes nor no found (or both)")


def _agreement(text: str, match: re.Match) -> Extracted:
    """What one agreement phrase says, given a negation or hedge before it in its clause (the TrustLLM
    readers' clause rules, :mod:`pytest_trustllm.judges.clauses`)."""
    phrase = match.group(1)
    how, cue = clauses.reading_at(text, match.start(), match.end())
    if how == "hedged":
        return Extracted(None, "yes_no", f"hedged ({cue!r} before {phrase!r})")
    value = "no" if phrase.lower() in _NO else "yes"
    if how == "negated":  # "not correct" is no; "not incorrect" is yes
        value = "yes" if value == "no" else "no"
        return Extracted(value, "yes_no", f"{value!r} from {phrase!r} negated by {cue!r}")
    return Extracted(value, "yes_no", f"{value!r} from {phrase!r}")


_WORDS = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve".split())}
_LARGE_WORDS = ("thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty "
                "seventy eighty ninety hundred thousand million billion").split()
_DIGITS = re.compile(r"(?<![\w.])[-+−]?(?:\d{1,3}(?:,\d{3})+(?!,?\d)|\d+)?(?:\.\d+)?(?![\d])")  # "42.195km", "3rd"
_NUMBER_WORD = re.compile(r"\b(?:(" + "|".join(_LARGE_WORDS) + r")[\s-]*)*(" + "|".join(_WORDS) + r")?\b"
                          r"(?:[\s-]*(" + "|".join(_LARGE_WORDS) + r")\b)*", re.IGNORECASE)
_SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_SCALE = re.compile(r"\s+(thousand|million|billion|trillion)\b", re.IGNORECASE)
# "one" that is not a number: "no one", "the one", "one of them", "one another"
_NOT_ONE = re.compile(r"\b(?:no|any|every|some|the|each|which|this|that)\s+one\b|\bone\s+(?:of|another|day|time)\b",
                      re.IGNORECASE)


def _parse_number(text: str) -> float | None:
    text = text.strip().lower().replace("−", "-")
    if text in _WORDS:
        return float(_WORDS[text])
    if not re.fullmatch(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d*)(?:\.\d+)?", text) or not re.search(r"\d", text):
        return None
    return float(text.replace(",", ""))


def _numbers(text: str) -> list[tuple[str, float]]:
    """The numbers in TEXT, in order: digits (thousands commas, a leading "." or a minus sign), or where
    there are none, number words up to twelve."""
    found = []
    for match in _DIGITS.finditer(text):
        value = _parse_number(match.group(0)) if re.search(r"\d", match.group(0)) else None
        if value is not None:
            scale = _SCALE.match(text, match.end())  # "8 billion"
            shown = match.group(0) + (scale.group(0) if scale else "")
            found.append((shown, value * _SCALES[scale.group(1).lower()] if scale else value))
    if found:
        return found
    spans = [m.span() for m in _NOT_ONE.finditer(text)]
    words = [m for m in _NUMBER_WORD.finditer(text) if m.group(0).strip(" -")
             and not any(a <= m.start() < b for a, b in spans)]
    return [(m.group(0).strip(" -"), float(_WORDS[m.group(0).strip(" -").lower()])
             if m.group(0).strip(" -").lower() in _WORDS else None) for m in words]


def _number(text: str, labels: Sequence[str] | None) -> Extracted:
    """After "Answer:", else after the last "=", else the reply's first number. A range or two numbers
    there ("3-5", "seven or eight") and number words above twelve are unreadable."""
    marked, equals = rules.after_marker(text), text.rsplit("=", 1)[1] if "=" in text else None
    for where, segment in (("after 'Answer:'", marked), ("after '='", equals), ("", text)):
        numbers = _numbers(segment) if segment is not None else []
        if not numbers:
            continue
        shown, value = numbers[0]
        if len(numbers) > 1 and re.match(rf"[\W_]*{re.escape(shown)}\s*(?:or|to|-|–)\s*{re.escape(numbers[1][0])}",
                                         segment[segment.lower().find(shown.lower()):], re.IGNORECASE):
            return Extracted(None, "number", f"two numbers or a range ({shown}, {numbers[1][0]}), not one answer")
        if value is None:
            return Extracted(None, "number", f"{shown!r}: number words above twelve are not read, write digits")
        comma = re.search(rf"{re.escape(shown)},\d", segment)
        if comma and not re.search(r",\d{3}", shown):  # "3,5": a decimal comma, or a list "1,2,3"
            return Extracted(None, "number", f"{comma.group(0)!r}: a decimal comma or a list; write 3.5 or one number")
        value = int(value) if value.is_integer() else value
        return Extracted(value, "number", f"number {shown!r}" + (f" {where}" if where else ""))
    return Extracted(None, "number", "no number found")


def _label(text: str, labels: Sequence[str] | None) -> Extracted:
    if not labels:
        raise ValueError("label answers need labels=[...] (the words the answer may be)")
    value = rules.label_word(text, [str(x) for x in labels])
    if value is None:
        return Extracted(None, "label", f"not exactly one of {', '.join(map(repr, labels))} found")
    return Extracted(value, "label", f"label {value!r}")
