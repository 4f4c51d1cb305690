"""Training DMF and DMF-D: `fit()` runs the one loop (`loop.py`) over `BlockTask`, DMF's epoch of blocks.

A step (`step.py`) takes a block of seen users × seen items (the authors' scheme), embeds the block's rows and
columns and regresses the cosine onto every observed rating inside the block. With `mask_targets` the block's own
ratings are removed from the inputs, so the network is never shown the entry it must predict; at evaluation the
inputs hold every observed rating and the targets (validation / test) are never among them, so training matches
test.

Callers watch through `on_step` / `on_epoch` callbacks and stop it with a `threading.Event`, honoured within one
step. Early stopping on validation RMSE, a time budget and a divergence guard end a run early; the model returned is
the selected one (best validation RMSE; for DMF-D the discrete validation RMSE of a quantizer epoch).

Each run owns its randomness: the initialisation draws from a generator seeded with the run's seed, and the shuffles,
input dropout and dropout masks from the task's own generators, reseeded from (seed, epoch) every epoch. Nothing
reads torch's global generator, so runs, estimates and pages running beside each other in threads never change a
run's numbers, and a resumed run draws exactly what an uninterrupted one would.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..config import ModelConfig, TrainConfig, model_for
from ..data import RatingData
from ..data.split import VAL, AreaSplit
from ..device import pick_device
from ..model.biases import Biases, fit_biases
from ..model.inputs import MatrixInputs, SparseBatch
from ..model.network import DMFNet
from ..model.quantizer import refit
from ..scoring.metrics import paired_rmse_difference, per_area, rmse
from ..scoring.predict import Predictor
from .calibration import calibrate
from .companion import fit_companion, skipped
from .derive import DataShape, derive
from .loop import AfterStep, Callbacks, CheckpointCallback, EpochCallback, Loop, StepCallback, Validation, stream_seed
from .phases import make_phases, quantizer_summary
from .step import train_step
from .stopping import EarlyStopping, StopFlag, TimeBudget, cpu_copy

__all__ = ["fit", "TrainResult", "TrainingDiverged", "BlockTask", "build_model", "StepCallback", "EpochCallback",
           "CheckpointCallback"]

# Extra per-epoch measurement (benchmarks track test RMSE over time with it); its time is not counted as training.
Monitor = Callable[[DMFNet, MatrixInputs], dict[str, Any]]


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite before any epoch could be selected."""


@dataclass
class TrainResult:
    model: DMFNet
    inputs: MatrixInputs
    history: list[dict[str, Any]]
    stop_reason: str  # completed | early_stopping | time_budget | stopped | diverged
    epochs_run: int
    train_seconds: float
    device: str
    best_epoch: int  # the selected epoch (1-based)
    optimizer_state: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    train_config: TrainConfig | None = None  # as trained: derived settings filled in
    derived: dict[str, str] = field(default_factory=dict)  # {setting: how it was derived from the data}
    calibration: dict[str, float] = field(default_factory=dict)  # see `calibrate`
    biases: Biases | None = None  # global mean + biases of this split, fitted before training
    predictor: Predictor | None = None  # the returned model's factors for every user and item
    val_rmse: float | None = None  # the selected epoch's validation RMSE (area I)
    val_rmse_kind: str = "continuous"  # "discrete" for DMF-D: its hard-quantized output
    quantizer: dict[str, Any] | None = None  # DMF-D: phases.quantizer_summary
    split: AreaSplit | None = None  # the split it trained on
    companion: dict[str, Any] | None = None  # the I-AutoRec companion's record (companion.fit_companion); None: none
    checkpoint: dict[str, Any] | None = None  # the final checkpoint, where `runs.train_run` built one to write it


def build_model(data: RatingData, model_config: ModelConfig, train_config: TrainConfig) -> DMFNet:
    """The network with its initial weights drawn from a generator seeded with the run's seed."""
    generator = torch.Generator().manual_seed(stream_seed(train_config.seed, -1, -1))
    return DMFNet(data.n_users, data.n_items, model_config, rating_scale=data.rating_scale,
                  discrete=train_config.model == "dmf-d", learn_boundaries=train_config.quantizer.learn_boundaries,
                  rating_step=data.rating_step, generator=generator)


def _adam(model: DMFNet, config: TrainConfig, device: torch.device) -> torch.optim.Optimizer:
    # The fused kernel cuts the optimizer step ~4x on CPU: the first layers' tables are most of the parameters.
    fused = device.type in ("cpu", "cuda")
    params: list[Any] = model.dmf_parameters()
    if model.quantizer is not None:  # DMF-D: the boundaries in a group of their own (QuantizerConfig.network_lr_scale)
        boundaries = model.quantizer.boundaries
        params = [{"params": [p for p in params if p is not boundaries]}, {"params": [boundaries]}]
    return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay, fused=fused)


def _chunks(order: torch.Tensor, size: int) -> list[torch.Tensor]:
    """Chunks of at most `size` (at least 2, which batch norm needs), as even as possible: never a one-row last
    chunk, which batch norm cannot train on (1350 users in blocks of 1349 are two chunks of 675, not 1349 and 1)."""
    n = len(order)
    return list(torch.tensor_split(order, max(1, min(math.ceil(n / size), n // 2)))) if n else []


class BlockTask:
    """DMF's epoch: every block of (seen users × seen items) once, in an order drawn from the run's generator; and
    its validation on the validation ratings (discrete for DMF-D, which is selected on what it is for)."""

    def __init__(self, model: DMFNet, inputs: MatrixInputs, data: RatingData, split: AreaSplit,
                 config: TrainConfig, device: torch.device):
        self.module = model
        self.inputs = inputs
        self.config = config
        self.device = device
        self.n_users = data.n_users
        self.optimizer = _adam(model, config, device)
        self.scheduler = torch.optim.lr_scheduler.ExponentialLR(self.optimizer, gamma=config.lr_decay)
        self.shuffles = torch.Generator()  # block orders, on the CPU; seeded every epoch (`reseed`)
        self.noise = torch.Generator(device)  # input dropout and dropout masks
        model.use_generator(self.noise)
        self.seen_users = torch.as_tensor(np.flatnonzero(~split.new_user), device=device)
        self.seen_items = torch.as_tensor(np.flatnonzero(~split.new_item), device=device)
        val = split.role == VAL
        self.val_users, self.val_items, self.val_true = data.users[val], data.items[val], data.ratings[val]
        self.val_area = split.area[val]
        # the ratings the selection is on: area I's, or every validation rating where area I has none
        self.val_selected = self.val_area == 0 if (self.val_area == 0).any() else np.ones(len(self.val_area), bool)
        # DMF-D: the quantizer's start's squared errors on the selection's validation ratings (area I), set when it
        # starts; every quantizer epoch is compared with it rating by rating (QuantizerConfig.select_margin).
        self.start_errors: torch.Tensor | None = None

    def reseed(self, seed: int, epoch: int) -> None:
        self.shuffles.manual_seed(stream_seed(seed, epoch, 0))
        self.noise.manual_seed(stream_seed(seed, epoch, 1))

    def blocks(self) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """This epoch's user chunks and item chunks (each a random partition of the seen rows)."""
        users = self.seen_users[torch.randperm(len(self.seen_users), generator=self.shuffles).to(self.device)]
        items = self.seen_items[torch.randperm(len(self.seen_items), generator=self.shuffles).to(self.device)]
        return _chunks(users, self.config.block_users), _chunks(items, self.config.block_items)

    def train_epoch(self, lam: float | None, after_step: AfterStep) -> tuple[list[float], tuple[str, str] | None]:
        self.module.train()
        user_chunks, item_chunks = self.blocks()
        item_batches = [self.inputs.item_cols.gather(chunk) for chunk in item_chunks]  # reused by every user chunk
        steps, step, losses = len(user_chunks) * len(item_chunks), 0, []
        for user_chunk in user_chunks:
            user_batch = self.inputs.user_rows.gather(user_chunk)
            in_block_user = torch.zeros(self.n_users, dtype=torch.bool, device=self.device)
            in_block_user[user_chunk] = True
            for index in torch.randperm(len(item_chunks), generator=self.shuffles).tolist():
                loss = self.step(user_chunk, user_batch, in_block_user, item_chunks[index], item_batches[index], lam)
                step += 1
                if loss is not None and math.isfinite(loss):
                    losses.append(loss)
                if (ended := after_step(loss, step, steps)) is not None:
                    return losses, ended
        return losses, None

    def step(self, user_chunk: torch.Tensor, user_batch: SparseBatch, in_block_user: torch.Tensor,
             item_chunk: torch.Tensor, item_batch: SparseBatch, lam: float | None) -> float | None:
        return train_step(self.module, self.optimizer, user_chunk, user_batch, in_block_user, item_chunk,
                          item_batch, self.config, lam, self.noise)

    def validate(self, lam: float | None) -> Validation:
        model = self.module
        predictor = Predictor.build(model, self.inputs)
        continuous = predictor.continuous(self.val_users, self.val_items)
        if not np.isfinite(continuous).all():
            return Validation({}, None, finite=False)
        predicted = predictor.discrete(continuous) if model.discrete else continuous
        areas = per_area(predicted, self.val_true, self.val_area)
        area_i = self.val_selected
        val_rmse = areas["I"]["rmse"] if areas["I"] else rmse(predicted, self.val_true)
        errors = (predicted[area_i] - self.val_true[area_i]) ** 2
        record = {
            "val_rmse": val_rmse,
            "val_areas": {k: (v["rmse"] if v else None) for k, v in areas.items()},
            "val_rmse_continuous": rmse(continuous, self.val_true),
            "boundaries": model.quantizer.boundaries.detach().cpu().tolist() if model.quantizer else None,
        }
        if model.quantizer is not None and lam is not None:
            # How far the smooth G_λ,b that trained is from the hard Q_b that predicts, on the validation outputs
            # (mean absolute difference, in stars): 0 once λ makes them indistinguishable.
            with torch.no_grad():
                x = torch.as_tensor(continuous, device=model.quantizer.boundaries.device)
                record["quantizer_gap"] = float((model.quantizer(x, lam) - model.quantizer.hard(x)).abs().mean())
        return Validation(record, self._selection_value(val_rmse, errors, lam, record),
                          continuous=rmse(continuous[area_i], self.val_true[area_i]), errors=errors)

    def _selection_value(self, val_rmse: float, errors: np.ndarray, lam: float | None,
                         record: dict[str, Any]) -> float:
        """What the selection compares: a quantizer epoch's validation RMSE plus `select_margin` standard errors of
        its paired difference from the start (recorded beside it), so that it is chosen over the start only for a
        gain larger than its noise."""
        if lam is None or self.start_errors is None or not len(errors):
            return val_rmse
        diff, se = paired_rmse_difference(errors, self.start_errors.numpy())
        record["val_rmse_vs_start"], record["val_rmse_vs_start_se"] = diff, se
        quantizer = self.config.quantizer
        return val_rmse + (quantizer.select_margin * se if quantizer.select_start else 0.0)  # a margin over a candidate

    def start_quantizer(self) -> Validation:
        """The quantizer phase starts: scale the network's learning rate (`QuantizerConfig.network_lr_scale`) and
        validate the starting point (the warm-up's weights, b at the uniform midpoints: DMF + rounding)."""
        self.optimizer.param_groups[0]["lr"] *= self.config.quantizer.network_lr_scale
        start = self.validate(None)
        if start.errors is not None:
            self.start_errors = torch.as_tensor(start.errors, dtype=torch.float32)
        return start

    def end_epoch(self) -> None:
        self.scheduler.step()

    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def state_dict(self) -> dict[str, Any]:
        return {"model": cpu_copy(self.module.state_dict()), "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(), "start_errors": self.start_errors}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.module.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        # a checkpoint from before the paired selection has none: its quantizer epochs are then compared plainly
        self.start_errors = state.get("start_errors")


def make_loop(task: BlockTask, config: TrainConfig, callbacks: Callbacks,
              stop_event: threading.Event | None = None) -> Loop:
    """The loop of one DMF or DMF-D run with its phases and stoppers."""
    return Loop(
        task,
        epochs=config.epochs,
        seed=config.seed,
        phases=make_phases(task.module.discrete, config.quantizer, config.epochs, config.max_seconds,
                           config.patience, task.module.rating_step),
        selection=EarlyStopping(config.patience),
        budget=TimeBudget(config.max_seconds),
        stop_flag=StopFlag(stop_event),
        callbacks=callbacks,
    )


def fit(
    data: RatingData,
    split: AreaSplit,
    model_config: ModelConfig,
    train_config: TrainConfig,
    *,
    on_step: StepCallback | None = None,
    on_epoch: EpochCallback | None = None,
    stop_event: threading.Event | None = None,
    resume: dict[str, Any] | None = None,
    monitor: Monitor | None = None,
    on_checkpoint: CheckpointCallback | None = None,
    on_companion: StepCallback | None = None,
) -> TrainResult:
    """Train and return the selected model. `resume` is the loop state of an interrupted run (`Loop.state_dict`,
    as `checkpoint.loop_state` reads it back from a checkpoint): the run goes on exactly where it left off.
    `on_companion(epoch, epochs)` follows the I-AutoRec companion's training after DMF's (`companion.py`)."""
    train_config.validate()
    model_config = model_for(model_config, train_config.model)
    model_config.validate()
    train_config, derived = derive(train_config, DataShape.of(split))
    device = pick_device(train_config.device)
    # Fitted once: the bias+cosine output adds them, and the run's metrics show them as the baseline beside it.
    biases = fit_biases(data, split)
    model = build_model(data, model_config, train_config)
    model.set_biases(biases)
    model = model.to(device)
    inputs = MatrixInputs.from_split(data, split, device)
    task = BlockTask(model, inputs, data, split, train_config, device)
    callbacks = Callbacks(on_step, on_epoch, on_checkpoint, None if monitor is None else lambda: monitor(model, inputs))
    loop = make_loop(task, train_config, callbacks, stop_event)
    if resume is not None:
        loop.load_state_dict(resume)
    outcome = loop.run()
    result = TrainResult(model=model, inputs=inputs, history=loop.history, stop_reason=outcome.stop_reason,
                         epochs_run=len(loop.history), train_seconds=loop.budget.elapsed, device=str(device),
                         best_epoch=0, optimizer_state=task.optimizer.state_dict(), message=outcome.message,
                         train_config=train_config, derived=derived, biases=biases, split=split)
    _select(loop, result)
    model.eval()
    # The selected model's factors, embedded once: the calibration and the run's test scores both read them (the
    # cosine weights are applied at prediction time, so fitting them leaves the factors valid).
    result.predictor = Predictor.build(model, inputs)
    result.calibration = calibrate(model, result.predictor, data, split)
    if result.quantizer and result.quantizer["trained"] and train_config.quantizer.finish == "fitted":
        # After calibration, so b are fitted to the outputs the final model gives (the predictor reads b when it
        # quantizes, so its factors stay valid).
        continuous = result.predictor.continuous(task.val_users, task.val_items)
        result.quantizer.update(refit(model.quantizer, continuous, task.val_true, model.rating_scale))
    if model.companion is not None:
        _train_companion(model, data, split, inputs, train_config, result, stop_event, on_companion)
    return result


def _train_companion(model: DMFNet, data: RatingData, split: AreaSplit, inputs: MatrixInputs, config: TrainConfig,
                     result: TrainResult, stop_event: threading.Event | None,
                     on_companion: StepCallback | None = None) -> None:
    """The companion after DMF, within what is left of the time budget; its seconds count as training time. Sets
    `result.companion` (its record) and `result.predictor` (the blended ratings). A run stopped, out of time or
    diverged keeps DMF alone, and the record says so."""
    left = None if config.max_seconds is None else config.max_seconds - result.train_seconds
    if result.stop_reason in ("stopped", "diverged"):
        result.companion = skipped(f"not trained: the run {result.stop_reason} before it; ratings are DMF's alone")
    elif result.stop_reason == "time_budget" or (left is not None and left <= 0):
        result.companion = skipped("not trained: the time budget was spent on DMF; ratings are DMF's alone")
    else:
        assert result.predictor is not None
        result.companion, result.predictor = fit_companion(model, data, split, inputs, result.predictor, config.seed,
                                                           left, stop_event, on_companion)
        result.train_seconds += result.companion.get("seconds", 0.0)


def _select(loop: Loop, result: TrainResult) -> None:
    """Load the selected weights into the model and record what was selected. A DMF-D run that never reached its
    quantizer returns plain DMF's best warm-up epoch, reported as such (continuous validation RMSE)."""
    model, selection = loop.task.module, loop.selection
    warm_up = getattr(loop.phases, "warm_up", None)
    if not selection.selected and warm_up is not None and warm_up.selected:
        selection = warm_up
    if not selection.selected and result.stop_reason == "diverged":
        raise TrainingDiverged(result.message)  # no epoch worth keeping
    selection.restore(model)
    result.best_epoch = selection.best_epoch
    result.val_rmse = selection.best_rmse
    result.val_rmse_kind = "discrete" if model.discrete and selection is loop.selection else "continuous"
    if model.discrete:
        result.quantizer = quantizer_summary(loop.history, loop.phases)
        # whether the selection kept the quantizer's start (DMF + rounding) over every quantizer epoch: only a run
        # whose start was a candidate (a warm-up, `select_start`) can have kept it
        compared = loop.phases.select_start and bool(loop.phases.start) and loop.task.start_errors is not None
        kept_start = selection is loop.selection and selection.selected and compared and (
            result.best_epoch == loop.phases.start)
        result.quantizer["selected_start"] = kept_start
        # the margin the selection applied (`BlockTask._selection_value`): none where the start was no candidate
        result.quantizer["select_margin"] = loop.task.config.quantizer.select_margin if compared else 0.0
        if selection is loop.selection and result.best_epoch:
            # the selected epoch's own validation RMSE, not the margin-weighted value the selection compared
            record = loop.history[result.best_epoch - 1]
            result.val_rmse = record["start_val_rmse"] if kept_start else record["val_rmse"]
