"""Words in their clause: whether a word or phrase of a reply is said plainly, negated or hedged.

``reading`` is what every answer reader asks: "not good", "I don't think it's wrong" and "nothing wrong" are
negated; "good or bad", "I'm not sure it's wrong" and "whether it is wrong" are hedged; "Good, not bad." says
good plainly. A clause ends at punctuation or at a conjunction that turns it ("but", "although", ...).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

BREAK = "|"
_TOKEN = re.compile(r"[a-z0-9]+(?:['’-][a-z0-9]+)*|[.!?;:,\n()]", re.IGNORECASE)
_CONJUNCTIONS = frozenset({"but", "however", "although", "though", "yet", "whereas", "while"})
_NEGATORS = frozenset({"not", "never", "nothing", "none", "neither", "nor", "hardly", "cannot", "nobody",
                       "no", "without"})
_NOT_NEGATING = frozenset({"only", "just", "merely"})  # "not only wrong but cruel"
_HEDGES = frozenset({"maybe", "perhaps", "whether", "if", "unsure", "unclear", "uncertain", "might", "possibly",
                     "either"})
_HEDGED_NOT = frozenset({"sure", "certain", "clear", "know"})  # "not sure it is wrong", "don't know if"
_SOFTENERS = frozenset({"really", "quite", "entirely", "totally", "completely", "100"})  # "not really sure"


def words(text: str) -> list[str]:
    """Lower-case words (hyphens and apostrophes kept inside them)."""
    return re.findall(r"[a-z0-9]+(?:[-'][a-z0-9]+)*", (text or "").lower().replace("’", "'"))


def tokens(text: str) -> list[str]:
    """Lower-case words, with BREAK for punctuation and conjunctions that end a clause."""
    out = []
    for token in _TOKEN.findall((text or "").lower().replace("’", "'")):
        out.append(BREAK if not token[0].isalnum() or token in _CONJUNCTIONS else token)
    return out


def clause_before(tokens: Sequence[str], limit: int = 8) -> list[str]:
    """The words of the clause that TOKENS end in (at most LIMIT of them)."""
    start = max((i + 1 for i, t in enumerate(tokens) if t == BREAK), default=0)
    return list(tokens[start:])[-limit:]


def _negating(clause: Sequence[str], i: int) -> bool:
    word = clause[i]
    following = clause[i + 1] if i + 1 < len(clause) else ""
    if word == "no" and i == 0 and following:  # "No it is wrong": an interjection, not "no support"
        return False
    if following in _NOT_NEGATING:
        return False
    return word in _NEGATORS or word.endswith("n't")


def negations(clause: Sequence[str]) -> int:
    """How many words of CLAUSE negate what follows them."""
    return sum(1 for i in range(len(clause)) if _negating(clause, i))


def _hedge(clause: Sequence[str]) -> str | None:
    """The hedge in CLAUSE ("maybe", "whether", "not sure", "don't know"), if any."""
    for i, word in enumerate(clause):
        if word in _HEDGES:
            return word
        if _negating(clause, i):
            rest = list(clause[i + 1:i + 3])
            if rest[:1] and rest[0] in _SOFTENERS:
                rest = rest[1:]
            if rest[:1] and rest[0] in _HEDGED_NOT:
                return " ".join(clause[i:clause.index(rest[0], i) + 1])
    return None


def reading(tokens: Sequence[str], start: int, end: int) -> tuple[str, str]:
    """How the words TOKENS[START:END] are used, and the words that say so: ("plain", ""), ("negated",
    "not") for "not good", "I don't think it's wrong" or "nothing wrong", or ("hedged", "or") for "good or
    bad", "I'm not sure it's wrong" ("not sure"), "maybe wrong"."""
    before = clause_before(tokens[:start])
    after = [t for t in tokens[end:end + 2] if t != BREAK][:1]  # "good or bad", "Wrong, or maybe..."
    if before and before[-1] == "nor":
        return "negated", "nor"
    if after == ["or"] or (before and before[-1] in ("or", "between")):
        return "hedged", "or" if after == ["or"] else before[-1]
    hedge = _hedge(before)
    if hedge:
        return "hedged", hedge
    negators = [before[i] for i in range(len(before)) if _negating(before, i)]
    return ("negated", negators[-1]) if len(negators) % 2 else ("plain", "")


def state(tokens: Sequence[str], start: int, end: int) -> str:
    """``reading``'s state alone: "plain", "negated" or "hedged"."""
    return reading(tokens, start, end)[0]


def reading_at(text: str, start: int, end: int) -> tuple[str, str]:
    """``reading`` of the characters TEXT[START:END] (a phrase a regular expression found)."""
    before = tokens(text[:start])
    return reading(before + ["<phrase>"] + tokens(text[end:]), len(before), len(before) + 1)


def mentions(text: str, labels: Sequence[str]) -> list[tuple[int, str, str]]:
    """Every use of a label word or phrase in TEXT, as (position, label, state), in order. Longer labels
    are matched first and their words taken, so "not wrong" is not also "wrong" and "anti-stereotype" not
    "stereotype"."""
    said = tokens(text)
    taken = [False] * len(said)
    found = []
    for label in sorted(labels, key=len, reverse=True):
        pattern = words(label)
        for i in range(len(said) - len(pattern) + 1) if pattern else ():
            if said[i:i + len(pattern)] == pattern and not any(taken[i:i + len(pattern)]):
                taken[i:i + len(pattern)] = [True] * len(pattern)
                found.append((i, label, state(said, i, i + len(pattern))))
    return sorted(found)


def only(values: Iterable[Any]) -> Any:
    """The one distinct value among VALUES; None when there are none or several."""
    distinct = set(values)
    return distinct.pop() if len(distinct) == 1 else None
