"""Bad settings in the forms, table-driven: every number and text field of the Train form and of the Data page's
split form, with zero, negative, huge and NaN values (and text where the field takes text). Each field states which
values it accepts; every other one must be refused with a one-line message that names the field; none shows a
traceback, and a refused start leaves nothing behind."""

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


HUGE = 10**12
# Every field of the Train form (DMF-D shows them all): the words its refusals must contain (the field's name, its
# label), and which of the table's values it accepts; every other value must be refused, naming the field.
NUMBER_FIELDS = {
    "hp_dropout": (("dropout",), {0}),
    "hp_input_dropout": (("input_dropout", "input dropout"), {0}),
    "hp_epochs": (("epochs",), {HUGE}),
    "hp_lr": (("learning rate", "lr"), {HUGE}),
    "hp_lr_decay": (("lr_decay", "lr decay"), set()),
    "hp_weight_decay": (("weight decay", "weight_decay"), {0, HUGE}),
    "hp_patience": (("patience",), {0, HUGE}),
    "hp_max_seconds": (("time budget",), {0, HUGE}),
    "hp_seed": (("seed",), {0}),
    "hp_lambda_start": (("lambda_start", "lambda start"), set()),
    "hp_lambda_growth": (("lambda growth", "lambda_growth"), {HUGE}),
    "hp_lambda_max": (("lambda_max", "lambda max"), {HUGE}),
    "hp_gamma2": (("gamma2",), {0, HUGE}),
    "hp_step_every": (("step_every", "step every"), {HUGE}),
    "hp_select_margin": (("select_margin", "selection margin"), {0, HUGE}),
}
TEXT_FIELDS = {  # the fields that take a whole number or `auto` (empty = auto)
    "hp_block_users": (("block users",), {"1000000000000", "", "auto"}),
    "hp_block_items": (("block items",), {"1000000000000", "", "auto"}),
    "hp_warmup_epochs": (("warmup_epochs", "warm-up epochs"), {"0", "1000000000000", "", "auto"}),
}


def refusal(at) -> str | None:
    messages = [e.value for e in at.error if e.value.startswith("Not started:")]
    return messages[0] if messages else None


def check(at, key: str, value, names: tuple[str, ...], accepted: set) -> None:
    """Judge the page after Start was clicked with `value` in the field `key`."""
    result = outcome(at)
    expected = "accepted" if value in accepted else "refused"
    assert result == expected, (key, value, [e.value for e in at.error])
    if result == "refused":
        message = refusal(at)
        assert any(name in message for name in names), (key, value, message)
    else:
        assert "Started" in " ".join(t.value for t in at.toast) or "queued" in texts(at) or at.progress
        settle()
        at.run()


def test_the_table_covers_every_field_of_the_form(open_page):
    at = open_page("train")
    at.radio(key="hp_model").set_value("dmf-d").run()
    assert {w.key for w in at.number_input} == set(NUMBER_FIELDS)
    assert {w.key for w in at.text_input} - {"hp_hidden", "train-label"} == set(TEXT_FIELDS)


@pytest.mark.slow  # the whole table: a minute through the page; test_train.py has one case per field kind
@pytest.mark.parametrize("value", VALUES, ids=["zero", "negative", "huge", "nan"])
def test_every_number_field_refuses_its_invalid_values_by_name(open_page, value):
    at = open_page("train")
    at.radio(key="hp_model").set_value("dmf-d").run()  # DMF-D shows the quantizer's fields too
    at.button(key="preset-quick").click().run()
    for key, (names, accepted) in NUMBER_FIELDS.items():
        widget = at.number_input(key=key)
        good, whole = widget.value, isinstance(widget.value, int)
        if whole and isinstance(value, float):
            continue  # an integer field cannot hold NaN in the browser either
        widget.set_value(value if whole or isinstance(value, float) else float(value))
        at.button(key="train-start").click().run()  # one rerun: the value and the click
        # The widget turns NaN into 0 (a browser cannot type NaN either): judge the value it holds.
        held = at.number_input(key=key).value
        check(at, key, value if isinstance(held, float) and math.isnan(held) else held, names, accepted)
        at.number_input(key=key).set_value(good)  # back to the preset's value, sent with the next case


@pytest.mark.slow  # the whole table: a minute through the page; test_train.py has one case per field kind
@pytest.mark.parametrize("text", [*TEXTS, "auto"])
def test_every_count_or_auto_field_refuses_its_invalid_values_by_name(open_page, text):
    at = open_page("train")
    at.radio(key="hp_model").set_value("dmf-d").run()
    at.button(key="preset-quick").click().run()
    for key, (names, accepted) in TEXT_FIELDS.items():
        good = at.text_input(key=key).value
        at.text_input(key=key).input(text)
        at.button(key="train-start").click().run()  # one rerun: the text and the click
        check(at, key, text, names, accepted)
        at.text_input(key=key).input(good)  # back to the preset's value, sent with the next case


def test_every_text_field_of_the_train_form(open_page, isolated):
    at = open_page("train")
    for text in TEXTS:
        at.text_input(key="hp_hidden").input(text)
        at.button(key="train-start").click().run()
        assert outcome(at) == "refused"
    assert not isolated.exists() or not any(isolated.iterdir())


@pytest.mark.slow  # the whole table: a minute through the page; test_train.py has one case per field kind
@pytest.mark.parametrize("value", VALUES, ids=["zero", "negative", "huge", "nan"])
def test_every_field_of_the_split_form(open_page, value):
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
