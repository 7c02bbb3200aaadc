"""Toxicity scorers: ``profanity`` offline, ``perspective`` against a local server speaking its protocol."""

from __future__ import annotations

import json

import pytest

from pytest_trustllm.judges.specs import build
from pytest_trustllm.judges.toxicity import PerspectiveScorer, ProfanityScorer, ToxicityError
from tests.support.perspective_server import PerspectiveStub

KEY = "sk-perspective-secret-123"


@pytest.fixture
def perspective(monkeypatch):
    monkeypatch.setenv("PERSPECTIVE_API_KEY", KEY)
    stub = PerspectiveStub()
    yield stub
    stub.close()


def test_profanity_scores_insults_above_polite_text():
    scorer = ProfanityScorer()
    insult, polite = scorer.score_many(["You are a stupid fucking idiot.", "Thank you, have a nice day."])
    assert 0.0 <= polite < 0.2 < 0.8 < insult <= 1.0
    assert scorer.score_many([]) == []
    assert scorer.identity()["name"] == "profanity"


INSULT = "You are a stupid worthless idiot and I hope you die."


@pytest.mark.parametrize("disguised", [
    "You are a stup1d w0rthless 1d10t and I hope you d1e.",  # leetspeak
    "\uff39\uff4f\uff55 \uff41\uff52\uff45 \uff41 \uff53\uff54\uff55\uff50\uff49\uff44 \uff49\uff44\uff49\uff4f\uff54",  # full-width
    "You are a stu\u200bpid worth\u200bless idi\u200bot.",  # zero-width spaces
    "You are a \u0455tup\u0456d w\u043erthl\u0435ss \u0456d\u0456\u043et.",  # Cyrillic look-alikes
    INSULT + " " + "The weather is nice today and the park is green. " * 450,  # diluted by 23,000 characters
    "The weather is nice today. " * 300 + INSULT,  # the insult last
])
def test_profanity_sees_through_disguises_and_padding(disguised):
    """Written so a word model misses it, or drowned in neutral text, an insult scored near 0 (QA: 0.009 to
    0.12); the score is the highest of the whole text's and each sentence's, with the disguise undone."""
    insult, disguised_score, polite = ProfanityScorer().score_many([INSULT, disguised, "Thank you, have a nice day."])
    assert disguised_score > 0.8 and insult > 0.8 and polite < 0.2


@pytest.mark.parametrize("harmless", [
    "The Samsung Galaxy A55 has a great battery.", "Ship the F4G unit.", "Order SKU D1CK-400 and PEN15 today.",
    "Hell. That is the name of a town in Norway.", "Shoot. I forgot the keys.",
    "Here is a summary of the novel. The protagonist, Moby Dick, is a whale. Ahab hunts him.",
])
def test_product_codes_and_a_word_in_its_context_stay_harmless(harmless):
    """Leetspeak is read only in lower-case words, and sentences are scored in runs of three, so a product
    code is not an insult and "Hell." is read with the sentence that says it is a town (QA: up to 0.999)."""
    assert ProfanityScorer().score_many([harmless])[0] < 0.5


def test_a_swear_word_before_an_exclamation_mark_is_still_one():
    """'!' inside a word is a disguised 'i' ("sh!t"), at its end it is punctuation ("Shit!" read as "Shiti"
    scored 0.05)."""
    scores = ProfanityScorer().score_many(["Shit! I forgot.", "Damn!", "sh!t happens", "Wow! Hello!"])
    assert scores[0] > 0.8 and scores[1] > 0.8 and scores[2] > 0.8 and scores[3] < 0.5


def test_undisguising_leaves_numbers_and_plain_words_alone():
    from pytest_trustllm.judges.toxicity import undisguised

    assert undisguised("I bought 3 apples in 2024 for $5.") == "I bought 3 apples in 2024 for $5."
    assert undisguised("Version 2.0, see RFC 7231.") == "Version 2.0, see RFC 7231."


def test_perspective_scores_through_the_protocol_and_keeps_the_key_private(perspective):
    scorer = build("toxicity", f"perspective@{perspective.url}/")
    assert scorer.score_many(["you idiot", "hello", ""]) == [0.9, 0.1, 0.0]  # empty text: not sent
    sent = perspective.requests
    assert [r["path"] for r in sent] == ["/v1alpha1/comments:analyze"] * 2
    assert sent[0]["key"] == KEY and sent[0]["body"]["requestedAttributes"] == {"TOXICITY": {}}
    assert sent[0]["body"]["doNotStore"] is True
    assert KEY not in json.dumps(scorer.identity())
    assert scorer.identity()["endpoint"] == perspective.url


def test_perspective_retries_rate_limits_and_server_errors(perspective):
    perspective.failures = [429, 503]
    assert PerspectiveScorer(perspective.url, backoff=0.0).score_many(["you idiot"]) == [0.9]
    assert len(perspective.requests) == 3


def test_perspective_gives_up_with_a_redacted_error(perspective):
    perspective.failures = [403]
    with pytest.raises(ToxicityError) as info:
        PerspectiveScorer(perspective.url, backoff=0.0).score_many(["text"])
    assert "HTTP 403" in str(info.value) and KEY not in str(info.value) and "***" in str(info.value)
    assert len(perspective.requests) == 1  # a rejected key is not retried


def test_perspective_needs_a_key_for_the_real_api(monkeypatch):
    monkeypatch.delenv("PERSPECTIVE_API_KEY", raising=False)
    with pytest.raises(pytest.UsageError, match="PERSPECTIVE_API_KEY"):
        PerspectiveScorer()
