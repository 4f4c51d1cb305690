"""Every default of DMF Studio in one place, as plain dataclasses.

`ModelConfig`, `QuantizerConfig` and `TrainConfig` are what a checkpoint stores (as dicts) and what the CLI and
the app expose. `authors_preset()` gives the settings of the authors' public TensorFlow code for comparison.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

Activation = Literal["relu", "tanh", "elu", "sigmoid", "selu", "gelu"]
InputEncoding = Literal["rating", "centered+implicit"]
LambdaSchedule = Literal["exp", "step"]
LossScale = Literal["rating", "cosine"]
QuantizerFinish = Literal["learned", "fitted"]
Output = Literal["cosine", "bias+cosine"]
ModelKind = Literal["dmf", "dmf-d"]
Companion = Literal["none", "i-autorec"]
# How "automatic" is written on the command line and in the app's form; configs hold None for it.
AUTO = "auto"

MAX_HIDDEN = 16384  # wider layers would not fit a workstation's memory on ML-1M-sized data (3.7k items × width)
MAX_SEED = 2**32 - 1  # numpy's and torch's seeds both take this range
# The weight of the predicted rating in DMF's top-N ranking (`rankers.relevance`, what `DMF.recommend` ranks by):
# log(co-rating score) + this × the predicted rating on 0..1 of the scale. Chosen on validation users by
# `python -m dmf_core rank-eval --data ml-1m` (docs/ranking.md).
RATING_WEIGHT = 0.5
# The share of ratings kept aside to select the model (early stopping, the epoch kept) in every split: what an
# estimator's fit keeps from training and no more, as scikit-learn's early stopping keeps its validation_fraction.
VAL_FRAC = 0.05


def check_choice(name: str, value: Any, kind: Any) -> None:
    """`value` must be one of the Literal type `kind`'s values: a one-line message names the field and lists them."""
    options = get_args(kind)
    if value not in options:
        listed = ", ".join(repr(option) for option in options)
        raise ValueError(f"{name.replace('_', ' ')} must be one of {listed}, got {value!r}")


def check_flag(name: str, value: Any) -> None:
    """`value` must be a bool (True/False), not a number or text that merely looks like one."""
    if not isinstance(value, bool):
        raise ValueError(f"{name.replace('_', ' ')} must be True or False, got {value!r}")


def check_numbers(config: Any) -> None:
    """Every numeric setting must be a real, finite number of the kind its annotation says (`int`, `float`, either
    optional): a one-line message names the field. Run first by each config's `validate`, so the range checks after
    it compare numbers, never NaN or text."""
    hints = get_type_hints(type(config))
    for spec in fields(config):
        hint = hints[spec.name]
        kinds = set(get_args(hint)) if get_origin(hint) in (Union, UnionType) else {hint}  # int | None -> int
        value = getattr(config, spec.name)
        if value is None or not kinds & {int, float}:
            continue
        whole = float not in kinds
        if isinstance(value, bool) or not isinstance(value, int if whole else (int, float)):
            kind = "a whole number" if whole else "a number"
            raise ValueError(f"{spec.name.replace('_', ' ')} must be {kind}, got {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"{spec.name.replace('_', ' ')} must be a finite number, got {value}")


@dataclass(frozen=True)
class SplitConfig:
    """How ratings are divided into the paper's areas and into observed / validation / test roles. The defaults are
    the paper's area experiment (`train`'s split); `FIT_SPLIT` below is the library's."""

    new_user_frac: float = 0.10  # users held out of training entirely (areas II and IV)
    new_item_frac: float = 0.10  # items held out of training entirely (areas III and IV)
    val_frac: float = VAL_FRAC
    test_frac: float = 0.20  # the rest (75%) is observed: training targets and model inputs
    seed: int = 0

    def validate(self) -> None:
        check_numbers(self)
        for name in ("new_user_frac", "new_item_frac", "val_frac", "test_frac"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {value}")
        # Models are selected on validation ratings: that share may not be empty. A test share of 0 is an estimator's
        # fit (`FIT_SPLIT`): every rating but the validation share trains, and test scores are empty (null).
        if self.val_frac <= 0:
            raise ValueError("val_frac, the validation share, must be > 0: the model is selected on validation ratings")
        if self.val_frac + self.test_frac >= 1.0:
            raise ValueError("val_frac + test_frac must leave some ratings observed")
        if not 0 <= self.seed <= MAX_SEED:
            raise ValueError(f"seed must be in 0..{MAX_SEED}, got {self.seed}")


# `DMF().fit(data)`'s split (the library's `split="fit"`): no user or item held out and no test share, so the model
# trains on every rating it is given but the validation share, as an estimator does. The area experiment
# (`SplitConfig()`, `split="areas"`) is what `train` measures with.
FIT_SPLIT = SplitConfig(new_user_frac=0.0, new_item_frac=0.0, val_frac=VAL_FRAC, test_frac=0.0)
SPLITS = {"fit": FIT_SPLIT, "areas": SplitConfig()}


@dataclass(frozen=True)
class ModelConfig:
    """The two-branch network. Both branches share sizes; the last size is the latent dimension d."""

    hidden: tuple[int, ...] = (512, 256)
    activation: Activation = "elu"
    dropout: float = 0.5
    batch_norm: bool = True
    # "rating": the authors' raw 1..5 values; "centered+implicit": (r-mid)/half plus a rated-indicator channel.
    input_encoding: InputEncoding = "centered+implicit"
    # Divide the first layer's sum by sqrt(#ratings) so heavy and light users land on one scale.
    normalize_input: bool = True
    # "cosine" is the paper's exact model: r̂ = mid + half·cos(U_i, V_j). "bias+cosine" (ours, the default) adds the
    # closed-form global mean + user and item biases (biases.py; folded in from the input row for new users and
    # items) and lets the cosine learn what they leave over: r̂ = μ + b_i + b_j + half·cos(U_i, V_j).
    # Why: the pure cosine must spend its angles on each row's offset, which it infers badly for rows it never
    # trained on. Chosen on validation (benchmarks/bench_choices.py, demo data, seeds 0-2, mean validation RMSE of
    # areas I/II/III/IV at the selected epoch): cosine 0.850 / 0.912 / 0.904 / 1.009, bias+cosine 0.831 / 0.891 /
    # 0.882 / 0.973.
    output: Output = "bias+cosine"
    # "none" (the default): DMF alone, the paper's model. "i-autorec": after DMF is selected, an I-AutoRec
    # (AutoRecConfig, the reproduction's baseline) is trained on the same observed ratings, and for a user and an
    # item both seen in training (area I) the rating is a blend, a·DMF + c·AutoRec + e, with (a, c, e) fitted by least
    # squares on area I's validation ratings; new users and items (areas II-IV) stay DMF's (companion.py says why).
    # Why not the default: the app and the library are about the paper's DMF, the blend does not help new users
    # (New user, `recommend`, `predict(context=)`), DMF-D cannot use it, and its cost grows with the number of users.
    # What it buys, ML-1M, literature split (85/5/10), seed 0: test 0.8236 against DMF alone's 0.8313, for 34 s
    # more on 2 CPU cores (docs/literature.md; `python benchmarks/bench_choices.py companion`).
    companion: Companion = "none"

    def validate(self) -> None:
        check_numbers(self)
        check_choice("activation", self.activation, Activation)
        check_choice("companion", self.companion, Companion)
        check_choice("input_encoding", self.input_encoding, InputEncoding)
        check_choice("output", self.output, Output)
        check_flag("batch_norm", self.batch_norm)
        check_flag("normalize_input", self.normalize_input)
        if not isinstance(self.hidden, tuple | list) or not self.hidden or any(
                isinstance(h, bool) or not isinstance(h, int) or h < 1 for h in self.hidden):
            raise ValueError(f"hidden sizes must be positive integers, got {self.hidden}")
        if max(self.hidden) > MAX_HIDDEN:
            raise ValueError(f"hidden sizes must be at most {MAX_HIDDEN}, got {max(self.hidden)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")


@dataclass(frozen=True)
class AutoRecConfig:
    """AutoRec (Sedhain et al. 2015), the reproduction's baseline and DMF's default companion (`ModelConfig`)."""

    side: Literal["user", "item"] = "item"  # item: I-AutoRec (rows are item columns); user: U-AutoRec
    hidden: int = 500
    lr: float = 1e-2
    # λ of the AutoRec objective Σ_observed (r - h(r))² + λ/2 (‖W‖² + ‖V‖²). Chosen on seed 0's area-I validation
    # RMSE on ML-1M: 100 was best among {1, 10, 100, 300, 1000} for I-AutoRec (0.846) and {100, 300} for U-AutoRec.
    reg: float = 100.0
    lr_decay: float = 0.9  # multiplied into lr after every epoch: Adam at 1e-2 is noisy late in training
    batch_size: int | None = None  # rows (items or users) per step; None: steps_batch(training rows, 256, 8)
    epochs: int = 30
    patience: int = 5
    max_seconds: float | None = None
    seed: int = 0


@dataclass(frozen=True)
class QuantizerConfig:
    """DMF-D's smooth quantizer G_{λ,b} (eq. 4) and how λ grows (section 3)."""

    lambda_start: float = 2.0
    lambda_growth: float = 1.2  # "exp": λ *= growth each epoch; "step": λ *= growth every step_every epochs
    lambda_max: float = 1e6
    schedule: LambdaSchedule = "exp"
    step_every: int = 30
    gamma2: float = 0.1  # weight of mean((b - b_uniform)^2), as in the authors' loss_weights
    learn_boundaries: bool = True
    # Epochs of plain continuous DMF loss before the quantizer is switched on (λ starts counting after them).
    # None (the default): until plain DMF's validation RMSE stops improving for `patience` epochs; the quantizer
    # then starts from DMF's best weights. How long that takes depends on the data, so no fixed number fits.
    # Measured with the earlier model on ML-1M (0/0 split, seed 0): 8 epochs of warm-up, then λ = 2 × 1.2 per
    # epoch, gave discrete test RMSE 0.899 / MAE 0.623 / accuracy 0.461, against 0.907 / 0.632 through G from the
    # first epoch, and 0.899 / 0.633 / 0.449 for DMF + rounding. With the current defaults on the demo data (0/0
    # split, seeds 0-2, discrete *validation* RMSE of the selected epoch; bench_choices.py): 8 epochs 0.869,
    # automatic 0.862.
    warmup_epochs: int | None = None
    # The quantizer phase's network learning rate, as a share of the run's (decayed) rate when it starts: 1 trains
    # the network jointly at full rate, 0 freezes it (only b trains). The boundaries keep the run's rate.
    network_lr_scale: float = 1.0
    # The quantizer phase's loss on which scale: "rating" (stars², mse + γ2·pen), or "cosine" (the same divided by
    # half the scale's width squared: the warm-up's scale, so the loss does not jump when the quantizer starts).
    loss_scale: LossScale = "rating"
    # Select only quantizer epochs whose G is indistinguishable from Q_b on validation (phases.GAP_TOLERANCE).
    select_settled: bool = False
    # The quantizer's starting point (the warm-up's weights with b at the uniform midpoints: DMF + rounding) is a
    # candidate of the selection, so on validation DMF-D ends no worse than rounding its own warm-up: with the
    # automatic warm-up, no worse than rounding plain DMF's own run (its warm-up is that run). Chosen on validation
    # (`python benchmarks/bench_dmfd_ablation.py`, ML-1M, Table 2's split, seed 0; REPRODUCTION.md has the table):
    # the automatic warm-up then λ from 2 had the best discrete validation RMSE of every variant tried (0.8837
    # against rounding's 0.8846); a 3-epoch warm-up 0.8873, the loss on the warm-up's scale 0.8836, selection only
    # where G ≈ Q_b 0.8851, a fine-tune from λ = 50 with the network's rate ×1 / ×0.1 / ×0 0.8846 / 0.8840 / 0.8842.
    select_start: bool = True
    # A quantizer epoch is selected over the start only by more than this many standard errors of their paired
    # difference on validation (RMSE + select_margin × SE, rating by rating against the start: `metrics.
    # paired_rmse_difference`); 0 selects the lowest validation RMSE. Rounding a calibrated output is already the
    # least-squares quantizer, so a gain over it must be told from the noise of picking the best of many epochs.
    # Chosen on validation alone (`python benchmarks/bench_dmfd_selection.py --seeds 0,1,2,3,4 --fitted`: Table 2's
    # DMF-D on ML-1M, validation halved 20 times per seed, selected on one half, scored on the other; RMSE − start,
    # mean over seeds): margin 0 +0.00060, 1 +0.00035, 2 +0.00008, 3 +0.00000. Every rule that left the start lost
    # RMSE on the half it did not select on; 2 is the smallest margin within 0.0001 of the best. It applies only with
    # `select_start` and a warm-up (without them there is no start to be compared with).
    select_margin: float = 2.0
    # After selection: "learned" keeps the trained b; "fitted" refits b on the validation ratings by least squares
    # (`quantizer.fit_boundaries(squared=True)`), the trained b kept in the run's quantizer record.
    finish: QuantizerFinish = "learned"

    def validate(self) -> None:
        check_numbers(self)
        check_choice("schedule", self.schedule, LambdaSchedule)
        check_choice("loss_scale", self.loss_scale, LossScale)
        check_choice("finish", self.finish, QuantizerFinish)
        check_flag("learn_boundaries", self.learn_boundaries)
        check_flag("select_settled", self.select_settled)
        check_flag("select_start", self.select_start)
        if not (math.isfinite(self.select_margin) and self.select_margin >= 0):
            raise ValueError(f"select_margin must be a number >= 0, got {self.select_margin}")
        if not 0 <= self.network_lr_scale <= 1:
            raise ValueError(f"network_lr_scale must be in [0, 1], got {self.network_lr_scale}")
        if self.lambda_start <= 0:
            raise ValueError(f"lambda_start must be > 0, got {self.lambda_start}")
        if self.lambda_growth < 1:
            raise ValueError(f"lambda growth must be >= 1 (λ only grows), got {self.lambda_growth}")
        if self.lambda_max < self.lambda_start:
            raise ValueError("lambda_max must be >= lambda_start")
        if self.gamma2 < 0:
            raise ValueError(f"gamma2 must be >= 0, got {self.gamma2}")
        if self.warmup_epochs is not None and self.warmup_epochs < 0:
            raise ValueError(f"warmup_epochs must be >= 0, got {self.warmup_epochs}")
        if self.step_every < 1:
            raise ValueError(f"step_every must be >= 1, got {self.step_every}")


@dataclass(frozen=True)
class TrainConfig:
    """The optimisation loop. A batch is a block of users × items; every observed rating inside it is a target."""

    model: ModelKind = "dmf"
    epochs: int = 60
    lr: float = 3e-3
    weight_decay: float = 0.0  # γ1 of eq. (1); dropout + batch norm regularise, as in the authors' code
    lr_decay: float = 0.93  # multiplied into lr after every epoch
    # None: derived from the data's shape (derive.py: a fixed number of chunks per side, so an epoch's steps and
    # its cost per rating stay the same from 100k to 25M ratings). A number: at most that many users / items.
    block_users: int | None = None
    block_items: int | None = None
    # Remove the block's own targets from the inputs, so the net never sees the rating it must predict.
    mask_targets: bool = True
    # Share of the other input entries dropped at random in each training step: a row must be read from a part of
    # it, as a new user's few ratings are. Chosen on validation (bench_choices.py, demo, seeds 0-2, areas
    # I/II/III/IV): 0 gives 0.832 / 0.921 / 0.898 / 1.001, 0.25 gives 0.831 / 0.891 / 0.882 / 0.973. Raised to 0.4
    # later (`bench_choices.py input-dropout`, later code, validation areas I/II/III/IV at the selected epoch,
    # 0.25 -> 0.4): demo seeds 0-2 0.8323 / 0.8886 / 0.8640 / 0.9662 -> 0.8324 / 0.8831 / 0.8529 / 0.9417; ML-1M's
    # 10% users 0.8886 / 0.9132 / 0.9276 / 0.8262 -> 0.8889 / 0.9131 / 0.9251 / 0.7928; 30% users 0.8646 / 0.9541 /
    # 0.8877 / 0.9258 -> 0.8615 / 0.9432 / 0.8788 / 0.9177; ML-1M 0.8451 / 0.8492 / 0.8489 / 0.8742 -> 0.8434 /
    # 0.8405 / 0.8463 / 0.8603; literature split (area I) 0.8345 -> 0.8331. 0.5 wins on ML-1M but costs the demo
    # data's area I 0.002.
    input_dropout: float = 0.4
    patience: int = 6  # epochs without a better validation RMSE before early stopping; 0 disables
    max_seconds: float | None = None
    seed: int = 0
    device: str = "auto"
    quantizer: QuantizerConfig = field(default_factory=QuantizerConfig)

    def validate(self) -> None:
        check_numbers(self)
        check_choice("model", self.model, ModelKind)
        check_flag("mask_targets", self.mask_targets)
        if self.epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {self.epochs}")
        if self.lr <= 0:
            raise ValueError(f"learning rate must be > 0, got {self.lr}")
        if self.weight_decay < 0:
            raise ValueError(f"weight decay must be >= 0, got {self.weight_decay}")
        if not 0 < self.lr_decay <= 1:
            raise ValueError(f"lr_decay must be in (0, 1], got {self.lr_decay}")
        for name in ("block_users", "block_items"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"{name.replace('_', ' ')} must be a whole number >= 1, got {value!r}")
        if not 0.0 <= self.input_dropout < 1.0:
            raise ValueError(f"input_dropout must be in [0, 1), got {self.input_dropout}")
        if self.patience < 0:
            raise ValueError(f"patience must be >= 0, got {self.patience}")
        if self.max_seconds is not None and self.max_seconds <= 0:
            raise ValueError(f"max_seconds must be > 0, got {self.max_seconds}")
        if not 0 <= self.seed <= MAX_SEED:
            raise ValueError(f"seed must be in 0..{MAX_SEED}, got {self.seed}")
        if not isinstance(self.device, str) or not self.device:
            raise ValueError(f"device must be a name like auto, cpu, cuda or cuda:0, got {self.device!r}")
        if not isinstance(self.quantizer, QuantizerConfig):
            raise ValueError(f"quantizer must be a QuantizerConfig, got {type(self.quantizer).__name__}")
        self.quantizer.validate()


def authors_preset() -> tuple[ModelConfig, TrainConfig]:
    """The settings of the authors' TensorFlow code (reference-notes §1): [2048, 1024] relu, keep-prob 0.2,
    raw ratings as inputs, Adam 1e-2 with ×0.65 every 50 epochs, blocks of 300×200, λ 0.1 × 1.015 per epoch."""
    model = ModelConfig(
        hidden=(2048, 1024),
        activation="relu",
        dropout=0.8,
        batch_norm=True,
        input_encoding="rating",
        normalize_input=False,
        output="cosine",
        companion="none",
    )
    train = TrainConfig(
        lr=1e-2,
        lr_decay=0.65 ** (1 / 50),
        block_users=300,
        block_items=200,
        mask_targets=False,
        input_dropout=0.0,
        epochs=1000,
        quantizer=QuantizerConfig(lambda_start=0.1, lambda_growth=1.015, lambda_max=1e30, gamma2=0.1, warmup_epochs=0),
    )
    return model, train


def model_for(model_config: ModelConfig, kind: str) -> ModelConfig:
    """The model config a run of `kind` trains with: DMF-D has no companion (its quantizer reads DMF's own output),
    so its config says "none" wherever it is recorded (metrics.json, the checkpoint)."""
    return replace(model_config, companion="none") if kind == "dmf-d" else model_config


def to_dict(config: Any) -> dict[str, Any]:
    """A dataclass as plain builtins (tuples become lists), safe for JSON and `torch.load(weights_only=True)`."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value

    return plain(asdict(config))


def from_dict(cls: type, values: dict[str, Any]) -> Any:
    """Rebuild a config dataclass from `to_dict` output, ignoring unknown keys from newer versions."""
    known = {f.name: f for f in fields(cls)}
    kwargs: dict[str, Any] = {}
    for name, value in values.items():
        if name not in known:
            continue
        if name == "quantizer" and isinstance(value, dict):
            value = from_dict(QuantizerConfig, value)
        elif name == "hidden" and isinstance(value, list):
            value = tuple(int(v) for v in value)
        kwargs[name] = value
    return cls(**kwargs)


__all__ = [
    "AUTO",
    "Activation",
    "InputEncoding",
    "LambdaSchedule",
    "LossScale",
    "QuantizerFinish",
    "ModelKind",
    "Output",
    "Companion",
    "AutoRecConfig",
    "SplitConfig",
    "ModelConfig",
    "QuantizerConfig",
    "TrainConfig",
    "authors_preset",
    "model_for",
    "to_dict",
    "from_dict",
    "replace",
]


def parse_hidden(text: str) -> tuple[int, ...]:
    """Hidden layer sizes from text like "512,256" (the command line's --hidden and the Train page's field)."""
    try:
        sizes = tuple(int(part) for part in str(text).replace(" ", "").split(",") if part)
    except ValueError:
        raise ValueError(f"hidden sizes must be comma-separated whole numbers like 512,256, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise ValueError(f"hidden sizes must be positive whole numbers like 512,256, got {text!r}")
    return sizes
