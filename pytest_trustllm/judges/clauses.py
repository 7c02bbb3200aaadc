"""Words in their clause: whether a word or phrase of a reply is said plainly, negated or hedged.

``reading`` is what every answer reader asks: "not good", "I don't think it's wrong" and "nothing wrong" are
negated; "good or bad", "I'm not sure it's wrong" and "whether it is wrong" are hedged; "Good, not bad." says
good plainly. A clause ends at punctuation or at a conjunction that turns it ("but", "although", ...).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

BREAK, COMMA = "|", ","  # a clause ends at either; "Wrong, or maybe..." looks past a comma, not past a full stop
BREAKS = frozenset({BREAK, COMMA})
_TOKEN = re.compile(r"[a-z0-9]+(?:['’-][a-z0-9]+)*|[.!?;:,\n()]", re.IGNORECASE)
_CONJUNCTIONS = frozenset({"but", "however", "although", "though", "yet", "whereas", "while"})
_NEGATORS = frozenset({"not", "never", "nothing", "none", "neither", "nor", "hardly", "cannot", "nobody",
                       "no", "without"})
_NOT_NEGATING = frozenset({"only", "just", "merely", "doubt", "question", "denying", "wonder"})  # "not only wrong
# but cruel", "no doubt the answer is yes", "without question", "there's no denying it is"
_HEDGES = frozenset({"maybe", "perhaps", "whether", "if", "unsure", "unclear", "uncertain", "might", "possibly",
                     "either"})
_HEDGED_NOT = frozenset({"sure", "certain", "clear", "know"})  # "not sure it is wrong", "don't know if"
_SOFTENERS = frozenset({"really", "quite", "entirely", "totally", "completely", "100"})  # "not really sure"


def words(text: str) -> list[str]:
    """Lower-case words (hyphens and apostrophes kept inside them)."""
    return re.findall(r"[a-z0-9]+(?:[-'][a-z0-9]+)*", (text or "").lower().replace("’", "'"))


def tokens(text: str) -> list[str]:
    """Lower-case words, with COMMA for a comma and BREAK for other punctuation and for conjunctions that
    end a clause."""
    out = []
    for token in _TOKEN.findall((text or "").lower().replace("’", "'")):
        out.append(token if token == COMMA else BREAK if not token[0].isalnum() or token in _CONJUNCTIONS else token)
    return out


def clause_before(tokens: Sequence[str], limit: int = 8) -> list[str]:
    """The words of the clause that TOKENS end in (at most LIMIT of them)."""
    start = max((i + 1 for i, t in enumerate(tokens) if t in BREAKS), default=0)
    return list(tokens[start:])[-limit:]


def _negating(clause: Sequence[str], i: int) -> bool:
    word = clause[i]
    following = [w for w in clause[i + 1:i + 3] if w not in ("a", "an")][:1]  # "without a doubt"
    if word == "no" and i == 0 and following:  # "No it is wrong": an interjection, not "no support"
        return False
    if following and following[0] in _NOT_NEGATING:
        return False
    return word in _NEGATORS or word.endswith("n't")


# words that may stand between a negation and the word it negates: "is not wrong", "not morally wrong",
# "isn't really a stereotype", "nothing at all bad about it"; anything else ("doesn't belong to you is
# wrong") means the negation is of something else
_BRIDGE = frozenset("is are was were be been being it it's that's this that at all really very so too quite well "
                    "entirely completely particularly necessarily a an the any in itself something".split())
# a negated belief before a clause negates the clause: "I don't think it's wrong", "I wouldn't call it bad"
_BELIEF = frozenset("think say believe consider call find feel see".split())


def _negated_words(before: Sequence[str]) -> list[str]:
    """The negations in BEFORE (the clause up to a word) that reach that word."""
    found = []
    for i in range(len(before)):
        if not _negating(before, i):
            continue
        between = before[i + 1:]
        bridged = all(w in _BRIDGE or w.endswith("ly") for w in between) and len(between) <= 4
        belief = bool(between) and between[0] in _BELIEF
        if bridged or belief:
            found.append(before[i])
    return found


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
    after = [t for t in tokens[end:end + 2] if t != COMMA][:1]  # "good or bad", "Wrong, or maybe..."
    if before and before[-1] == "nor":
        return "negated", "nor"
    if after == ["or"] or (before and before[-1] in ("or", "between")):
        return "hedged", "or" if after == ["or"] else before[-1]
    hedge = _hedge(before)
    if hedge:
        return "hedged", hedge
    negators = _negated_words(before)
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
