"""The Train page's settings: one widget per hyperparameter, each with a one-line explanation, and presets that
fill them all in one click.

Widgets keep their values for the whole session (`persist_state="session"`), so a learner can visit another page
and come back to the same settings. Number inputs deliberately have no hard bounds: a value like 0 epochs or a
negative learning rate reaches `config.validate()`, whose message is shown next to the Start button; a clamped
widget would silently change what the user typed instead.
"""

from __future__ import annotations

import math
from typing import Any, get_args

import streamlit as st
import torch

from dmf_core.config import (
    AUTO,
    Activation,
    InputEncoding,
    LambdaSchedule,
    ModelConfig,
    ModelKind,
    Output,
    QuantizerConfig,
    TrainConfig,
    parse_hidden,
    replace,
)
from dmf_core.training.derive import CHUNKS_PER_SIDE
from studio.presets import BEST_COST, PRESETS, SPHERE_COST, quick_preset

P = "hp_"  # widget-key prefix
# The options come from config's Literal types, the one list each: a choice added there appears here.
ACTIVATIONS = list(get_args(Activation))
ENCODINGS = list(get_args(InputEncoding))
SCHEDULES = list(get_args(LambdaSchedule))
MODELS = list(get_args(ModelKind))
_OUTPUT_LABELS = {"bias+cosine": "mean + biases + cosine (default)", "cosine": "cosine only (the paper's exact model)"}
OUTPUTS = {name: _OUTPUT_LABELS.get(name, name) for name in get_args(Output)}
_MODEL_LABELS = {"dmf": "DMF (continuous ratings)", "dmf-d": "DMF-D (learned quantizer, whole stars)"}


def _count_text(value: int | None) -> str:
    """A count that may be left to the data or the run (None in configs) as the form shows it: a number or `auto`."""
    return AUTO if value is None else str(int(value))


def _count_or_auto(text: Any, label: str) -> int | None:
    """The form's text back as a config value: `auto` (or empty) is None, else a whole number (checked later by
    validate())."""
    word = str(text or "").strip().lower()
    if word in ("", AUTO):
        return None
    try:
        return int(word)
    except ValueError:
        raise ValueError(f"{label} must be a whole number or '{AUTO}', got {text!r}") from None


APP_TIME_BUDGET = 900.0  # seconds; see `_values`

def _values(model: ModelConfig, train: TrainConfig) -> dict[str, Any]:
    q = train.quantizer
    return {
        "hidden": ",".join(str(h) for h in model.hidden),
        "activation": model.activation,
        "dropout": float(model.dropout),
        "batch_norm": bool(model.batch_norm),
        "encoding": model.input_encoding,
        "normalize": bool(model.normalize_input),
        "output": model.output,
        "companion": model.companion != "none",
        "input_dropout": float(train.input_dropout),
        "epochs": int(train.epochs),
        "lr": float(train.lr),
        "lr_decay": float(train.lr_decay),
        "weight_decay": float(train.weight_decay),
        "block_users": _count_text(train.block_users),  # auto = derived from the data
        "block_items": _count_text(train.block_items),
        "mask_targets": bool(train.mask_targets),
        "patience": int(train.patience),
        # The app always starts with a time budget: on a shared server an abandoned run must not hold the one
        # training slot for hours (the authors' preset asks for 1000 epochs).
        "max_seconds": float(train.max_seconds or APP_TIME_BUDGET),
        "seed": int(train.seed),
        "lambda_start": float(q.lambda_start),
        "lambda_growth": float(q.lambda_growth),
        "lambda_max": float(q.lambda_max),
        "schedule": q.schedule,
        "step_every": int(q.step_every),
        "warmup_epochs": _count_text(q.warmup_epochs),  # auto: until plain DMF stops improving
        "gamma2": float(q.gamma2),
        "learn_boundaries": bool(q.learn_boundaries),
        "select_margin": float(q.select_margin),
    }


def apply_preset(name: str) -> None:
    """Button callback: overwrite every setting with a preset (the model kind and device are kept)."""
    model, train = PRESETS[name][1]()
    for field, value in _values(model, train).items():
        st.session_state[P + field] = value
    st.session_state[P + "preset"] = PRESETS[name][0]
    if model.companion != "none":  # the blend is DMF's only
        st.session_state[P + "model"] = "dmf"


def init() -> None:
    """First visit of the session: the quick preset, so Start gives a result in seconds on the demo data."""
    if P + "epochs" not in st.session_state:
        model, train = quick_preset()
        for field, value in _values(model, train).items():
            st.session_state[P + field] = value
        st.session_state[P + "preset"] = PRESETS["quick"][0]
        st.session_state[P + "model"] = "dmf"
        st.session_state[P + "device"] = "auto"


def devices() -> list[str]:
    options = ["auto", "cpu"]
    if torch.cuda.is_available():
        options += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        options.append("mps")
    return options


def _num(label: str, field: str, help: str, *, integer: bool = False, fmt: str | None = None,
         step: float | None = None, column: Any = st) -> None:
    column.number_input(label, key=P + field, help=help, step=step if step is not None else (1 if integer else None),
                        format=fmt, persist_state="session")


def _network() -> None:
    """The form's network settings: the branches, their inputs, the output and the companion."""
    with st.expander("Network", expanded=True):
        cols = st.columns(3)
        cols[0].text_input("hidden layer sizes", key=P + "hidden", persist_state="session",
                           help="Comma-separated sizes of each branch's layers; the last one is the latent "
                                "dimension d of U_i and V_j.")
        cols[1].selectbox("activation", ACTIVATIONS, key=P + "activation", persist_state="session",
                          help="Non-linearity after every hidden layer.")
        _num("dropout", "dropout", "Share of units dropped while training (0 ≤ p < 1).", fmt="%.2f", step=0.05,
             column=cols[2])
        cols = st.columns(3)
        cols[0].selectbox("input encoding", ENCODINGS, key=P + "encoding", persist_state="session",
                          help="'rating': raw stars as in the paper; 'centered+implicit': centred stars plus a "
                               "'rated' flag, so a 3 is not mistaken for a missing rating.")
        cols[1].toggle("normalise input by √#ratings", key=P + "normalize", persist_state="session",
                       help="Puts heavy and light raters on one scale.")
        cols[2].toggle("batch norm", key=P + "batch_norm", persist_state="session",
                       help="Batch normalisation after each layer, as in the authors' code.")
        cols = st.columns(3)
        cols[0].selectbox("output", list(OUTPUTS), key=P + "output", persist_state="session", format_func=OUTPUTS.get,
                          help="The paper predicts mid-scale + half-range × cos(U_i, V_j). The default adds the "
                               "global mean and each user's and item's bias (folded in from the ratings for new "
                               "ones), so the cosine learns only what they leave over: on small data this is what "
                               "lets new users and items beat simple averages.")
        _num("input dropout", "input_dropout", "Share of each input row's ratings hidden at random in each "
             "training step (0 ≤ p < 1): rows must be read from a part of them, like a new user's few ratings.",
             fmt="%.2f", step=0.05, column=cols[1])
        cols[2].toggle("blend with an I-AutoRec", key=P + "companion", persist_state="session",
                       disabled=st.session_state[P + "model"] == "dmf-d",
                       help="After DMF, train an I-AutoRec (an item autoencoder) on the same ratings and blend the "
                            "two for a user and a movie both seen in training (area I), with weights fitted on validation ratings: the two "
                            "err differently, so the blend beats either. New users and movies are DMF's alone. DMF only: "
                            "DMF-D quantizes DMF's own output.")


def form() -> None:
    """Draw the settings. Read them back with `configs()`."""
    init()
    st.radio("Model", MODELS, key=P + "model", horizontal=True, persist_state="session",
             format_func=lambda name: _MODEL_LABELS.get(name, name),
             help="DMF-D adds the smooth quantizer G_λ,b of eq. (4) on top of DMF's cosine output.")
    cols = st.columns(len(PRESETS) + 1)
    for column, (name, (label, _)) in zip(cols, PRESETS.items(), strict=False):
        column.button(label, key=f"preset-{name}", on_click=apply_preset, args=(name,), width="stretch",
                      help={"quick": "128→64 units, 8 epochs, lr 1e-2: seconds on the demo data.",
                            "studio": "DMF Studio's defaults: 512→256 ELU, dropout 0.5, blocks derived from the data, "
                                      "up to 60 epochs with early stopping.",
                            "authors": "The authors' TensorFlow code: 2048→1024 ReLU, Adam 1e-2, blocks 300×200, "
                                       "λ from 0.1, ×1.015 per epoch, 1000 epochs (long!).",
                            "sphere": "256→3: every user and movie on a sphere the Latent map and New user pages "
                                      "draw exactly (no PCA). " + SPHERE_COST,
                            "best": BEST_COST}[name])
    cols[-1].caption(f"Now: {st.session_state.get(P + 'preset', 'custom')}")
    if st.session_state.get(P + "preset") == PRESETS["sphere"][0]:
        st.caption(SPHERE_COST)
    if st.session_state.get(P + "preset") == PRESETS["best"][0]:
        st.caption(BEST_COST)

    _network()

    with st.expander("Optimisation", expanded=True):
        cols = st.columns(4)
        _num("epochs", "epochs", "Maximum passes over the training ratings (≥ 1).", integer=True, column=cols[0])
        _num("learning rate", "lr", "Adam's step size (> 0).", fmt="%.4g", step=1e-3, column=cols[1])
        _num("lr decay per epoch", "lr_decay", "Multiplied into the learning rate after each epoch (0 < x ≤ 1).",
             fmt="%.4f", step=0.01, column=cols[2])
        _num("weight decay γ₁", "weight_decay", "ℓ2 penalty on the weights, eq. (1) (≥ 0).", fmt="%.2g",
             step=1e-5, column=cols[3])
        cols = st.columns(4)
        cols[0].text_input("block users", key=P + "block_users", persist_state="session",
                           help="Users per training block; every observed rating inside a users × items block is a "
                                f"target. '{AUTO}' = derived from the data (seen users / {CHUNKS_PER_SIDE}).")
        cols[1].text_input("block items", key=P + "block_items", persist_state="session",
                           help=f"Items per training block. '{AUTO}' = derived from the data (seen items / "
                                f"{CHUNKS_PER_SIDE}).")
        _num("early-stopping patience", "patience", "Stop after this many epochs without a better validation "
             "RMSE; 0 = never.", integer=True, column=cols[2])
        _num("time budget (s)", "max_seconds", f"Stop after this many seconds (default {APP_TIME_BUDGET:.0f}: one "
             "run trains at a time on this server, so an endless run would block everyone's queue); 0 = no limit.",
             fmt="%.0f", step=10.0, column=cols[3])
        cols = st.columns(4)
        _num("seed", "seed", "Initialisation and batch order.", integer=True, column=cols[0])
        cols[1].toggle("hide block targets from inputs", key=P + "mask_targets", persist_state="session",
                       help="The net never sees the rating it must predict, so training matches test.")
        options = devices()
        if st.session_state.get(P + "device") not in options:
            st.session_state[P + "device"] = "auto"
        cols[2].selectbox("device", options, key=P + "device", persist_state="session",
                          help="auto = CUDA GPU if present, then Apple MPS, else CPU.")

    if st.session_state[P + "model"] == "dmf-d":
        with st.expander("DMF-D quantizer: λ schedule and boundaries", expanded=True):
            cols = st.columns(4)
            _num("λ start", "lambda_start", "Slope of the sigmoids at epoch 1 (> 0): small = smooth.", fmt="%.3g",
                 step=0.1, column=cols[0])
            _num("λ growth", "lambda_growth", "λ is multiplied by this each epoch (or each 'step every' epochs); "
                 "must be ≥ 1, λ only grows.", fmt="%.4f", step=0.01, column=cols[1])
            _num("λ max", "lambda_max", "Cap on λ.", fmt="%.3g", column=cols[2])
            _num("γ₂", "gamma2", "Weight of ‖b − b̃‖², which keeps b near the uniform quantizer (≥ 0).",
                 fmt="%.3g", step=0.05, column=cols[3])
            cols = st.columns(4)
            cols[0].selectbox("schedule", SCHEDULES, key=P + "schedule", persist_state="session",
                              help="exp: grow every epoch; step: grow every 'step every' epochs.")
            _num("step every", "step_every", "Epochs between λ steps (step schedule).", integer=True,
                 column=cols[1])
            cols[2].text_input("warm-up epochs", key=P + "warmup_epochs", persist_state="session",
                               help="Epochs of plain DMF loss before the quantizer is switched on; λ starts growing "
                                    f"after them. '{AUTO}' = until plain DMF's validation RMSE stops improving, then "
                                    "from its best weights.")
            cols[3].toggle("learn boundaries b", key=P + "learn_boundaries", persist_state="session",
                           help="Off: b stays at the uniform midpoints b̃.")
            _num("selection margin (standard errors)", "select_margin", "A quantizer epoch is kept over the "
                 "quantizer's start (DMF + rounding) only if it beats it on validation by more than this many "
                 "standard errors of their rating-by-rating difference; 0 keeps the lowest validation RMSE, the "
                 "way to watch the learned b at work (≥ 0).", fmt="%.3g", step=0.5, column=st.columns(4)[0])


def configs() -> tuple[ModelConfig, TrainConfig]:
    """The settings as configs, validated; ValueError carries a message meant for the user."""
    s = {k[len(P):]: v for k, v in st.session_state.items() if isinstance(k, str) and k.startswith(P)}

    def integer(name: str, label: str) -> int:
        value = s[name]
        if value is None or not math.isfinite(float(value)) or float(value) != int(value):
            raise ValueError(f"{label} must be a whole number, got {value}")
        return int(value)

    def number(name: str, label: str) -> float:
        if s[name] is None:
            raise ValueError(f"{label} is empty")
        return float(s[name])

    model = ModelConfig(
        hidden=parse_hidden(s["hidden"]),
        activation=s["activation"],
        dropout=number("dropout", "dropout"),
        batch_norm=bool(s["batch_norm"]),
        input_encoding=s["encoding"],
        normalize_input=bool(s["normalize"]),
        output=s.get("output", "bias+cosine"),
        companion="i-autorec" if s.get("companion", False) and s["model"] == "dmf" else "none",
    )
    quantizer = QuantizerConfig(
        lambda_start=number("lambda_start", "λ start"),
        lambda_growth=number("lambda_growth", "λ growth"),
        lambda_max=number("lambda_max", "λ max"),
        schedule=s["schedule"],
        step_every=integer("step_every", "step every"),
        warmup_epochs=_count_or_auto(s["warmup_epochs"], "warm-up epochs"),
        gamma2=number("gamma2", "γ₂"),
        learn_boundaries=bool(s["learn_boundaries"]),
        select_margin=number("select_margin", "selection margin"),
    )
    max_seconds = number("max_seconds", "time budget")
    if not math.isfinite(max_seconds) or max_seconds < 0:  # NaN would otherwise pass as "no limit"
        raise ValueError(f"time budget must be a number of seconds ≥ 0 (0 = no limit), got {max_seconds:g}")
    train = TrainConfig(
        model=s["model"],
        epochs=integer("epochs", "epochs"),
        lr=number("lr", "learning rate"),
        weight_decay=number("weight_decay", "weight decay"),
        lr_decay=number("lr_decay", "lr decay"),
        block_users=_count_or_auto(s["block_users"], "block users"),
        block_items=_count_or_auto(s["block_items"], "block items"),
        input_dropout=number("input_dropout", "input dropout"),
        mask_targets=bool(s["mask_targets"]),
        patience=integer("patience", "patience"),
        max_seconds=max_seconds if max_seconds > 0 else None,
        seed=integer("seed", "seed"),
        device=s["device"],
        quantizer=quantizer,
    )
    if train.model == "dmf":
        # DMF ignores the quantizer; don't let a hidden, stale DMF-D field block a DMF run.
        train = replace(train, quantizer=QuantizerConfig())
    model.validate()
    train.validate()
    return model, train
