"""Numbers a model writes must be facts; ids, times and regions are not numbers."""

from __future__ import annotations

from lib.ai.data import Figure, Reply
from lib.ai.grounding import allowed_numbers, invented, messages, numbers_in


def test_numbers_ignore_ids_times_and_regions() -> None:
    text = "At 2026-01-21T10:00:00Z web-03 had 92.1% in ap-northeast-2 (inc-587041-05c7e5) at 10:30"
    assert numbers_in(text) == {"92.1"}


def test_numbers_are_compared_as_values() -> None:
    assert numbers_in("1,200 req/s and 54.0% and +3") == {"1200", "54", "3"}


def test_an_invented_number_is_caught() -> None:
    reply = Reply(
        ko="web-03 92.1%", en="web-03 92.1%", figures=(Figure("cpu_pct", 92.1, "%", "web-03"),)
    )
    allowed = allowed_numbers(reply, "top 3 by cpu", "en")
    assert invented("web-03 is at 92.1% of cpu", allowed) == set()
    assert invented("web-03 is at 93% of cpu", allowed) == {"93"}


def test_the_model_is_told_the_facts_and_the_question_only() -> None:
    reply = Reply(ko="가", en="facts text", figures=(Figure("cpu_pct", 1.0, "%"),))
    sent = messages("the question", reply, "en", ["earlier question"], "2026-01-21T10:00:00Z")
    assert sent[-1] == {"role": "user", "content": "the question"}
    assert "facts text" in sent[1]["content"]
    assert {"role": "user", "content": "earlier question"} in sent
