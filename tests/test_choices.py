"""One source for every choice: config's Literal types are the command line's choices, the Train form's options and
what validate() accepts; "automatic" is None in configs and the word `auto` on the command line; every field of
every config is validated, a refusal naming its field."""

from __future__ import annotations

import argparse
from dataclasses import fields, replace
from typing import get_args

import pytest

from dmf_core.cli import main as cli
from dmf_core.config import (
    Activation,
    InputEncoding,
    LambdaSchedule,
    ModelConfig,
    ModelKind,
    Output,
    QuantizerConfig,
    SplitConfig,
    TrainConfig,
)
from dmf_core.model.network import _ACTIVATIONS, SparseInput
from studio import train_form


def choices(flag: str) -> tuple:
    parser = cli.build_parser()
    train = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices["train"]
    return tuple(next(a for a in train._actions if flag in a.option_strings).choices)


@pytest.mark.parametrize(("flag", "kind", "form"), [
    ("--activation", Activation, train_form.ACTIVATIONS),
    ("--input-encoding", InputEncoding, train_form.ENCODINGS),
    ("--lambda-schedule", LambdaSchedule, train_form.SCHEDULES),
    ("--model", ModelKind, train_form.MODELS),
    ("--output", Output, list(train_form.OUTPUTS)),
])
def test_the_literal_types_are_the_cli_choices_and_the_form_options(flag, kind, form):
    assert choices(flag) == get_args(kind)
    assert list(form) == list(get_args(kind))


def test_every_activation_has_a_module():
    assert set(_ACTIVATIONS) == set(get_args(Activation))


def test_an_unknown_encoding_is_refused_not_read_as_one_channel():
    with pytest.raises(ValueError, match="input encoding"):
        SparseInput(10, 4, "bar", True, (1.0, 5.0))


WRONG = "zzz"


def wrong_value(config, name: str):
    """A value no field accepts: text for every field but the device, whose text is checked when it is used."""
    return "" if name == "device" else WRONG


@pytest.mark.parametrize("config", [SplitConfig(), ModelConfig(), QuantizerConfig(), TrainConfig()],
                         ids=lambda c: type(c).__name__)
def test_every_field_is_validated_and_a_refusal_names_it(config):
    for spec in fields(config):
        bad = replace(config, **{spec.name: wrong_value(config, spec.name)})
        with pytest.raises(ValueError) as caught:
            bad.validate()
        message = str(caught.value)
        assert "\n" not in message
        assert spec.name in message or spec.name.replace("_", " ") in message or (
            spec.name == "hidden" and "hidden sizes" in message), (spec.name, message)


def test_the_issues_examples_are_refused():
    with pytest.raises(ValueError, match="activation"):
        ModelConfig(activation="foo", input_encoding="bar").validate()
    with pytest.raises(ValueError, match="input encoding"):
        ModelConfig(input_encoding="bar").validate()
    with pytest.raises(ValueError, match="schedule"):
        QuantizerConfig(schedule="zzz").validate()


def parse(*flags: str):
    return cli._configs_from_args(cli.build_parser().parse_args(["train", *flags]))


def test_auto_is_none_in_the_configs_and_numbers_are_kept():
    _, _, train = parse("--block-users", "auto", "--block-items", "AUTO", "--warmup-epochs", "auto")
    assert train.block_users is None and train.block_items is None and train.quantizer.warmup_epochs is None
    _, _, train = parse("--block-users", "300", "--block-items", "200", "--warmup-epochs", "4")
    assert (train.block_users, train.block_items, train.quantizer.warmup_epochs) == (300, 200, 4)
    _, _, train = parse()
    assert train.block_users is None and train.quantizer.warmup_epochs is None  # the default is automatic


@pytest.mark.parametrize(("flag", "value", "field"), [
    ("--block-users", "0", "block users"), ("--block-items", "-3", "block items"),
    ("--warmup-epochs", "-1", "warmup_epochs")])
def test_the_old_spellings_of_automatic_are_refused(flag, value, field):
    with pytest.raises(ValueError, match=field):
        parse(flag, value)
