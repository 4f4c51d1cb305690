"""The `train` command's flags as settings: one mapping from flag values to the three configs, shared by the command
line (`train`) and the library (`DMF(**flags)`), so both start from the same defaults and the same rules.

`FLAGS` names every training flag with its default; a flag left at None takes the config's own default (or the
authors' preset's, with `preset="authors"`), and settings derived from the data stay derived (`derive.py`).
"""

from __future__ import annotations

from typing import Any

from .config import AUTO, SPLITS, ModelConfig, SplitConfig, TrainConfig, authors_preset, parse_hidden, replace
from .data import parse_rating_scale

_SPLIT = SplitConfig()

# flag (as a Python keyword) -> default, in the order of `python -m dmf_core train --help`.
FLAGS: dict[str, Any] = {
    "model": "dmf",
    "preset": "default",
    "epochs": None,
    "new_users": _SPLIT.new_user_frac,
    "new_items": _SPLIT.new_item_frac,
    "val_frac": _SPLIT.val_frac,
    "test_frac": _SPLIT.test_frac,
    "seed": 0,
    "device": "auto",
    "max_seconds": None,
    "hidden": None,
    "activation": None,
    "dropout": None,
    "lr": None,
    "weight_decay": None,
    "block_users": None,
    "block_items": None,
    "input_dropout": None,
    "input_encoding": None,
    "output": None,
    "companion": None,
    "patience": None,
    "lambda_start": None,
    "lambda_growth": None,
    "lambda_max": None,
    "lambda_schedule": None,
    "warmup_epochs": None,
    "gamma2": None,
    "network_lr_scale": None,
    "quantizer_finish": None,
    "select_margin": None,
    "rating_scale": None,
    "quiet": False,
}


SPLIT_FLAGS = ("new_users", "new_items", "val_frac", "test_frac")  # the flags a named split (`SPLITS`) sets


def split_flags(split: str) -> dict[str, float]:
    """The split flags of a named split: "fit" (the library's default, `config.FIT_SPLIT`: nothing held out but the
    validation share) or "areas" (the paper's area experiment, `train`'s default)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(map(repr, SPLITS))}, got {split!r}")
    config = SPLITS[split]
    return dict(zip(SPLIT_FLAGS, (config.new_user_frac, config.new_item_frac, config.val_frac, config.test_frac),
                    strict=True))


def split_name(split_config: SplitConfig) -> str:
    """The named split a run's split config is ("fit" when nothing but a validation share is held out)."""
    held_out = (split_config.new_user_frac, split_config.new_item_frac, split_config.test_frac)
    return "fit" if held_out == (0.0, 0.0, 0.0) else "areas"


def _given(values: dict[str, Any]) -> dict[str, Any]:
    """The settings given, with the word `auto` as the configs' None (decided by the data or the run)."""
    return {k: (None if v == AUTO else v) for k, v in values.items() if v is not None}


def configs_from_flags(**flags: Any) -> tuple[SplitConfig, ModelConfig, TrainConfig]:
    """(split, model, train) configs from `train` flags (keywords of FLAGS; others are ignored), each checked: a bad
    value is a one-line ValueError naming it."""
    unknown = set(flags) - set(FLAGS) - {"data", "out", "resume", "check", "command", "handler"}
    if unknown:
        raise ValueError(f"unknown setting {sorted(unknown)[0]!r}: the settings are the train command's flags "
                         f"({', '.join(FLAGS)})")
    values = {**FLAGS, **flags}
    if values["preset"] not in ("default", "authors"):
        raise ValueError(f"preset must be 'default' or 'authors', got {values['preset']!r}")
    model_config, train_config = (ModelConfig(), TrainConfig())
    if values["preset"] == "authors":
        model_config, train_config = authors_preset()
    hidden = values["hidden"]
    if isinstance(hidden, str):
        hidden = parse_hidden(hidden)
    elif hidden is not None:
        hidden = tuple(hidden)
    model_config = replace(model_config, **_given({"hidden": hidden, "activation": values["activation"],
                                                  "dropout": values["dropout"], "output": values["output"],
                                                  "input_encoding": values["input_encoding"]}))
    companion = values["companion"]
    if values["model"] == "dmf-d":  # DMF-D quantizes DMF's own output: the blend is for DMF (ModelConfig.companion)
        if companion not in (None, "none"):
            raise ValueError(f"companion {companion!r} blends DMF's continuous ratings; DMF-D quantizes its own: "
                             "use companion 'none' (the default) with model dmf-d")
        companion = "none"
    model_config = replace(model_config, **_given({"companion": companion}))
    quantizer = replace(train_config.quantizer, **_given({
        "lambda_start": values["lambda_start"],
        "lambda_growth": values["lambda_growth"],
        "lambda_max": values["lambda_max"],
        "schedule": values["lambda_schedule"],
        "gamma2": values["gamma2"],
        "warmup_epochs": values["warmup_epochs"],
        "network_lr_scale": values["network_lr_scale"],
        "finish": values["quantizer_finish"],
        "select_margin": values["select_margin"],
    }))
    train_config = replace(
        train_config,
        model=values["model"],
        seed=values["seed"],
        device=values["device"],
        max_seconds=values["max_seconds"],
        quantizer=quantizer,
        **_given({
            "epochs": values["epochs"],
            "lr": values["lr"],
            "weight_decay": values["weight_decay"],
            "block_users": values["block_users"],
            "block_items": values["block_items"],
            "input_dropout": values["input_dropout"],
            "patience": values["patience"],
        }),
    )
    split_config = SplitConfig(new_user_frac=values["new_users"], new_item_frac=values["new_items"],
                               val_frac=values["val_frac"], test_frac=values["test_frac"], seed=values["seed"])
    for config in (split_config, model_config, train_config):
        config.validate()
    return split_config, model_config, train_config


def flags_from_configs(split_config: SplitConfig, model_config: ModelConfig,
                       train_config: TrainConfig) -> dict[str, Any]:
    """The flags (keywords of FLAGS) that give these configs back through `configs_from_flags`: a loaded run's
    settings as `DMF.get_params` shows them."""
    quantizer = train_config.quantizer
    # Settings no flag sets tell the authors' preset apart (its raw inputs, unmasked targets, its lr decay).
    authors = authors_preset()
    preset = "authors" if (model_config.normalize_input, train_config.mask_targets, train_config.lr_decay) == (
        authors[0].normalize_input, authors[1].mask_targets, authors[1].lr_decay) else "default"
    return {
        "model": train_config.model, "preset": preset, "epochs": train_config.epochs,
        "new_users": split_config.new_user_frac, "new_items": split_config.new_item_frac,
        "val_frac": split_config.val_frac, "test_frac": split_config.test_frac, "seed": train_config.seed,
        "device": train_config.device, "max_seconds": train_config.max_seconds, "hidden": tuple(model_config.hidden),
        "activation": model_config.activation, "dropout": model_config.dropout, "lr": train_config.lr,
        "weight_decay": train_config.weight_decay, "block_users": train_config.block_users,
        "block_items": train_config.block_items, "input_dropout": train_config.input_dropout,
        "input_encoding": model_config.input_encoding, "output": model_config.output,
        "companion": model_config.companion, "patience": train_config.patience,
        "lambda_start": quantizer.lambda_start, "lambda_growth": quantizer.lambda_growth,
        "lambda_max": quantizer.lambda_max, "lambda_schedule": quantizer.schedule,
        "warmup_epochs": quantizer.warmup_epochs, "gamma2": quantizer.gamma2,
        "network_lr_scale": quantizer.network_lr_scale, "quantizer_finish": quantizer.finish,
        "select_margin": quantizer.select_margin, "rating_scale": None,
        "quiet": False,
    }


def scale_request(value: Any) -> tuple[float, ...] | None:
    """--rating-scale as text ("1:5", "0.5:5:0.5") or as a tuple (low, high[, step]); None reads it from the data."""
    if value is None:
        return None
    if isinstance(value, str):
        return parse_rating_scale(value)
    return parse_rating_scale(":".join(f"{float(part):g}" for part in value))
