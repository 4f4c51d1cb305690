"""Bad settings in the forms, table-driven: every number and text field of the Train form and of the Data page's
split form, with zero, negative, huge and NaN values (and text where the field takes text). Each gets a one-line
message or is accepted; none shows a traceback, and a refused start leaves nothing behind."""

from __future__ import annotations

import math

import pytest

from studio import cache
from tests.app.helpers import texts

VALUES = (0, -1, 10**12, math.nan)
TEXTS = ("0", "-1", "1000000000000", "nan", "abc", "")


def outcome(at) -> str:
    """'refused' (a one-line "Not started" / "Split not changed" message) or 'accepted'. Any other message on the
    page (say, an earlier accepted run that diverged) must be one line too."""
    assert not at.exception, [e.value for e in at.exception]
    messages = [e.value for e in at.error]
    assert all("\n" not in m and "Traceback" not in m for m in messages), messages
    refusals = [m for m in messages if m.startswith(("Not started:", "Split not changed:"))]
    assert len(refusals) <= 1, refusals
    return "refused" if refusals else "accepted"


def settle() -> None:
    """An accepted start queued a real run: stop it, so the next case finds the session free."""
    cache.shutdown_jobs(timeout=60)


@pytest.mark.parametrize("value", VALUES, ids=["zero", "negative", "huge", "nan"])
def test_every_number_field_of_the_train_form(open_page, value):
    at = open_page("train")
    at.radio(key="hp_model").set_value("dmf-d").run()  # DMF-D shows the quantizer's fields too
    keys = [w.key for w in at.number_input]
    assert len(keys) >= 15
    seen = {}
    for key in keys:
        at.button(key="preset-quick").click().run()
        widget = at.number_input(key=key)
        whole = isinstance(widget.value, int)
        if whole and isinstance(value, float):
            continue  # an integer field cannot hold NaN in the browser either
        widget.set_value(value if whole or isinstance(value, float) else float(value)).run()
        at.button(key="train-start").click().run()
        seen[key] = outcome(at)
        if seen[key] == "accepted":
            assert "Started" in " ".join(t.value for t in at.toast) or "queued" in texts(at) or at.progress
            settle()
            at.run()
    assert "refused" in seen.values()


def test_every_text_field_of_the_train_form(open_page, isolated):
    at = open_page("train")
    for text in TEXTS:
        at.text_input(key="hp_hidden").input(text).run()
        at.button(key="train-start").click().run()
        assert outcome(at) == "refused"
    assert not isolated.exists() or not any(isolated.iterdir())


@pytest.mark.parametrize("value", VALUES, ids=["zero", "negative", "huge", "nan"])
def test_every_field_of_the_split_form(open_page, value):
    at = open_page("data")
    for key in ("split-seed", "split-val", "split-test"):
        at = open_page("data")
        widget = at.number_input(key=key)
        whole = isinstance(widget.value, int)
        if whole and isinstance(value, float):
            continue
        widget.set_value(value if whole else float(value))
        at.button(key="FormSubmitter:data-split-Apply split").click().run()
        if outcome(at) == "refused":
            assert at.error[0].value.startswith("Split not changed:")
