"""Train page: presets, refusing absurd settings, a run to completion, Stop, other sessions, saved runs."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.helpers import chart_specs, texts, wait_until


def tiny(at: AppTest, epochs: int = 2, model: str = "dmf") -> AppTest:
    """The settings widgets set to a net small enough for a test on a shared 2-core machine."""
    at.radio(key="hp_model").set_value(model).run()
    at.text_input(key="hp_hidden").input("16,8")
    at.number_input(key="hp_epochs").set_value(epochs)
    at.text_input(key="hp_block_users").input("512")
    at.text_input(key="hp_block_items").input("512")
    if model == "dmf-d":  # no warm-up: every epoch trains the quantizer
        at.text_input(key="hp_warmup_epochs").input("0")
    return at.run()


def fill(at: AppTest, widget: str, value):
    """Put `value` in a field (a text field for the settings that take a number or `auto`), to be sent with the next
    run; returns the value it held."""
    if isinstance(value, str):
        held = at.text_input(key=widget).value
        at.text_input(key=widget).input(value)
    else:
        held = at.number_input(key=widget).value
        at.number_input(key=widget).set_value(value)
    return held


def errors(at: AppTest) -> str:
    return "\n".join(e.value for e in at.error)


def test_the_form_explains_and_the_presets_fill_it(open_page):
    at = open_page("train")
    assert at.text_input(key="hp_hidden").value == "128,64"  # the quick preset: seconds on the demo data
    assert all(w.help for w in at.number_input), "every hyperparameter has a short explanation"
    assert "device in use: **cpu" in texts(at)
    assert at.toggle(key="hp_companion").value is False  # the paper's DMF alone by default
    at.button(key="preset-best").click().run()  # the blend, one click away, with what it costs
    assert at.toggle(key="hp_companion").value is True and "DMF + I-AutoRec" in texts(at)
    assert at.text_input(key="hp_hidden").value == "512,256"
    assert re.search(r"Estimated: \*\*[0-9.]+ ?(ms|s|min) per epoch", texts(at))  # timed before any Start
    at.button(key="preset-authors").click().run()
    assert at.text_input(key="hp_hidden").value == "2048,1024"
    assert at.number_input(key="hp_lr").value == pytest.approx(1e-2)
    assert at.text_input(key="hp_block_users").value == "300" and at.number_input(key="hp_epochs").value == 1000
    assert "Authors' defaults" in texts(at)
    at.radio(key="hp_model").set_value("dmf-d").run()
    assert at.number_input(key="hp_lambda_start").value == pytest.approx(0.1)
    assert at.number_input(key="hp_lambda_growth").value == pytest.approx(1.015)


ABSURD = [  # one value per field kind; tests/app/test_bad_settings.py has every field's whole table (slow)
    ("hp_epochs", 0, "epochs must be >= 1"),
    ("hp_lr", -0.01, "learning rate must be > 0"),
    ("hp_dropout", 1.5, "dropout must be in [0, 1)"),
    ("hp_block_users", "-5", "block users must be a whole number >= 1, got -5"),
    ("hp_block_items", "many", "block items must be a whole number or 'auto', got 'many'"),
    ("hp_warmup_epochs", "-2", "warmup_epochs must be >= 0, got -2"),
    ("hp_input_dropout", 1.0, "input_dropout must be in [0, 1), got 1.0"),
    ("hp_lambda_growth", 0.9, "lambda growth must be >= 1"),
    ("hp_lambda_start", -1.0, "lambda_start must be > 0"),
]


def test_absurd_settings_get_a_clear_message_and_start_nothing(open_page, isolated):
    at = open_page("train")
    at.radio(key="hp_model").set_value("dmf-d").run()
    for widget, value, message in ABSURD:
        good = fill(at, widget, value)
        at.button(key="train-start").click().run()
        assert errors(at) == f"Not started: {message}" or message in errors(at), (widget, errors(at))
        assert errors(at).startswith("Not started:") and "Traceback" not in errors(at), widget
        fill(at, widget, good)  # back to its good value, sent with the next case's click
    assert not isolated.exists() or not any(isolated.iterdir())


def test_bad_hidden_sizes_are_explained(open_page):
    at = open_page("train")
    at.text_input(key="hp_hidden").input("512, big").run()
    at.button(key="train-start").click().run()
    assert "hidden sizes must be comma-separated whole numbers" in errors(at)


def test_a_run_trains_to_completion_and_is_saved(open_page, isolated):
    at = tiny(open_page("train"), epochs=2, model="dmf-d")
    at.text_input(key="train-label").input("from the test")
    at.button(key="train-start").click().run()
    assert at.button(key="train-start").disabled
    at.switch_page("pages/1_Data.py").run()  # leaving the page does not stop training
    assert not at.exception
    at.switch_page("pages/2_Train.py").run()
    wait_until(at, lambda at: any("Finished" in s.value for s in at.success))
    runs = at.dataframe[0].value
    assert list(runs["label"]) == ["from the test"] and list(runs["model"]) == ["DMF-D"]
    assert runs["epochs"].iloc[0] == 2
    titles = [spec["layout"].get("title", {}).get("text", "") for spec in chart_specs(at)]
    assert "Validation RMSE per area" in titles  # live charts, still shown after the run
    assert len(at.get("download_button")) == 2
    assert (next(isolated.iterdir()) / "checkpoint.pt").is_file()


def test_stop_ends_a_run_and_only_its_session_can_press_it(open_page, isolated):
    at = tiny(open_page("train"), epochs=500)
    at.button(key="train-start").click().run()
    wait_until(at, lambda at: any(b.key and b.key.startswith("stop-") for b in at.button), timeout=60)

    other = open_page("train")  # a second browser session on the same server
    assert not any(b.key and b.key.startswith("stop-") for b in other.button)
    assert "1 run(s) in progress from other browser sessions" in [e.label for e in other.expander]
    assert "only that session can stop it" in texts(other)
    assert not other.button(key="train-start").disabled  # it is not blocked: it may queue its own run

    wait_until(at, lambda at: "epochs done" in [m.label for m in at.metric])
    stop = next(b for b in at.button if b.key and b.key.startswith("stop-"))
    stop.click().run()
    wait_until(at, lambda at: any("Stopped" in w.value for w in at.warning), timeout=120)
    # The run that drew "Stopped" may have read the job just before it ended; the next one frees Start.
    wait_until(at, lambda at: not at.button(key="train-start").disabled, timeout=30)
