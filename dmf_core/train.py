"""The training loop: `fit()` trains DMF or DMF-D on the observed area-I ratings of a split.

A step takes a block of seen users × seen items (the authors' scheme), embeds the block's rows and columns and
regresses the cosine onto every observed rating inside the block. With `mask_targets` the block's own ratings are
removed from the inputs, so the network is never shown the entry it must predict; at evaluation the inputs hold
every observed rating and the targets (validation / test) are never among them, so training matches test.

Callers watch through `on_step` / `on_epoch` callbacks and stop it with a `threading.Event`, honoured within one
step. Early stopping on validation RMSE, a time budget and a NaN guard end a run early; the model returned is the
one with the best validation RMSE.
"""

from __future__ import annotations

import copy
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import torch

from . import checkpoint as ckpt
from .biases import Biases, fit_biases
from .calibration import calibrate
from .config import ModelConfig, TrainConfig
from .data import RatingData
from .derive import DataShape, derive
from .device import pick_device
from .inputs import MatrixInputs, SparseBatch, unscale_ratings
from .metrics import per_area, rmse
from .model import DMFNet
from .predict import Predictor
from .quantizer import lambda_after
from .split import VAL, AreaSplit
from .stopping import EarlyStopping

StepCallback = Callable[[int, int], None]  # (step within epoch, steps per epoch)
EpochCallback = Callable[[dict[str, Any]], None]
# Called after every finished epoch with a function that returns what a resumed run needs
# (`checkpoint.progress_state`): the caller (runs.train_run) decides whether to pay for copying and writing it.
CheckpointCallback = Callable[[Callable[[], dict[str, Any]]], None]
# Extra per-epoch measurement (benchmarks track test RMSE over time with it); its time is not counted as training.
Monitor = Callable[[DMFNet, MatrixInputs], dict[str, Any]]


AUTO_WARMUP_PATIENCE = 6  # with patience 0 (no early stopping), how long an automatic warm-up waits


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite before any epoch finished."""


@dataclass
class TrainResult:
    model: DMFNet
    inputs: MatrixInputs
    history: list[dict[str, Any]]
    stop_reason: str  # completed | early_stopping | time_budget | stopped | diverged
    epochs_run: int
    train_seconds: float
    device: str
    best_epoch: int
    optimizer_state: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    train_config: TrainConfig | None = None  # as trained: derived settings filled in
    derived: dict[str, str] = field(default_factory=dict)  # {setting: how it was derived from the data}
    calibration: dict[str, float] = field(default_factory=dict)  # see `calibrate`
    biases: Biases | None = None  # global mean + biases of this split, fitted before training
    predictor: Predictor | None = None  # the returned model's factors for every user and item

    @property
    def best_val_rmse(self) -> float | None:
        values = [h["val_rmse"] for h in self.history if h.get("val_rmse") is not None]
        return min(values) if values else None


def build_model(data: RatingData, model_config: ModelConfig, train_config: TrainConfig) -> DMFNet:
    return DMFNet(
        data.n_users,
        data.n_items,
        model_config,
        rating_scale=data.rating_scale,
        discrete=train_config.model == "dmf-d",
        learn_boundaries=train_config.quantizer.learn_boundaries,
        rating_step=data.rating_step,
    )


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % (2**32))


def _adam(model: DMFNet, config: TrainConfig, device: torch.device) -> torch.optim.Optimizer:
    # The fused kernel cuts the optimizer step ~4x on CPU: the first layers' tables are most of the parameters.
    fused = device.type in ("cpu", "cuda")
    return torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay, fused=fused)


def _chunks(order: torch.Tensor, size: int) -> list[torch.Tensor]:
    """Chunks of at most `size` (at least 2, which batch norm needs), as even as possible: never a one-row last
    chunk, which batch norm cannot train on (1350 users in blocks of 1349 are two chunks of 675, not 1349 and 1)."""
    n = len(order)
    return list(torch.tensor_split(order, max(1, min(math.ceil(n / size), n // 2)))) if n else []


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
) -> TrainResult:
    """Train and return the best model by validation RMSE (area I). `resume` is a checkpoint dict from
    `checkpoint.load`; training continues from its epoch with its weights, optimizer state and history. From an
    interrupted run's checkpoint (offered after every epoch through `on_checkpoint`) it continues exactly where the
    run left off: every epoch reseeds its random numbers from (seed, epoch), so the resumed run is the same run."""
    train_config.validate()
    model_config.validate()
    train_config, derived = derive(train_config, DataShape.of(split))
    device = pick_device(train_config.device)
    seed_everything(train_config.seed)
    generator = torch.Generator().manual_seed(train_config.seed)

    # Fitted once: the bias+cosine output adds them, and the run's metrics show them as the baseline beside it.
    biases = fit_biases(data, split)
    model = build_model(data, model_config, train_config)
    model.set_biases(biases)
    model = model.to(device)
    inputs = MatrixInputs.from_split(data, split, device)
    optimizer = _adam(model, train_config, device)
    history: list[dict[str, Any]] = []
    start_epoch = 0
    if resume is not None:
        model.load_state_dict(resume["state_dict"])
        if resume.get("optimizer_state"):
            optimizer.load_state_dict(resume["optimizer_state"])
        history = list(resume.get("history", []))
        start_epoch = len(history)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=train_config.lr_decay)
    for group in optimizer.param_groups:
        group["lr"] = train_config.lr * train_config.lr_decay**start_epoch

    seen_users = torch.as_tensor(np.flatnonzero(~split.new_user), device=device)
    seen_items = torch.as_tensor(np.flatnonzero(~split.new_item), device=device)
    val_selected = split.role == VAL
    val_data = (data.users[val_selected], data.items[val_selected], data.ratings[val_selected])
    val_area = split.area[val_selected]

    # A resumed checkpoint holds the best weights so far; warm-up epochs of DMF-D never count as its best.
    eligible = [h for h in history if h.get("val_rmse") is not None and not (model.discrete and h["lambda"] is None)]
    best_rmse = min((h["val_rmse"] for h in eligible), default=math.inf)
    stopper = EarlyStopping(
        train_config.patience,
        best=best_rmse,
        best_epoch=max((h["epoch"] for h in eligible if h["val_rmse"] == best_rmse), default=0),
        best_state=copy.deepcopy(model.state_dict()) if eligible else None,
    )
    interrupted_run = resume is not None and resume.get("in_progress")
    if interrupted_run:  # its weights are the last epoch's; the best ones so far are stored beside them
        stopper = EarlyStopping.resumed(train_config.patience, resume["stopping"], resume.get("best_state_dict"))
    stop_reason = "completed"
    message = ""
    started = time.perf_counter()
    previous_seconds = history[-1]["elapsed"] if history else 0.0
    # DMF-D's warm-up: a fixed number of epochs, or (None) plain DMF until its validation RMSE stops improving, from
    # whose best weights the quantizer then starts.
    quantizer = train_config.quantizer
    quantizer_start = quantizer.warmup_epochs
    if quantizer_start is None:
        started_at = [h["epoch"] - 1 for h in history if h.get("lambda") is not None]
        quantizer_start = started_at[0] if started_at else None
    warm_up = EarlyStopping(train_config.patience or AUTO_WARMUP_PATIENCE)  # plain DMF's, for the automatic start
    if interrupted_run:
        warm_up = EarlyStopping.resumed(warm_up.patience, resume["warm_up"], resume.get("warm_state_dict"))
        quantizer_start = resume.get("quantizer_start")

    for epoch in range(start_epoch, train_config.epochs):
        epoch_started = time.perf_counter()
        # Each epoch's shuffles and dropout masks depend on (seed, epoch) only, so a run resumed at this epoch draws
        # the same numbers as one that never stopped.
        generator.manual_seed(train_config.seed + epoch)
        torch.manual_seed(train_config.seed + epoch)
        lam = None
        if model.discrete and quantizer_start is not None and epoch >= quantizer_start:
            lam = lambda_after(epoch - quantizer_start, quantizer)
        model.train()
        losses: list[float] = []
        user_chunks = _chunks(seen_users[torch.randperm(len(seen_users), generator=generator).to(device)],
                              train_config.block_users)
        item_order = seen_items[torch.randperm(len(seen_items), generator=generator).to(device)]
        item_chunks = _chunks(item_order, train_config.block_items)
        item_batches = [inputs.item_cols.gather(chunk) for chunk in item_chunks]  # reused by every user chunk
        steps = len(user_chunks) * len(item_chunks)
        step = 0
        interrupted = False
        for user_chunk in user_chunks:
            user_batch = inputs.user_rows.gather(user_chunk)
            in_block_user = torch.zeros(data.n_users, dtype=torch.bool, device=device)
            in_block_user[user_chunk] = True
            for item_index in torch.randperm(len(item_chunks), generator=generator).tolist():
                loss = _train_step(model, optimizer, user_chunk, user_batch, in_block_user, item_chunks[item_index],
                                   item_batches[item_index], train_config, lam)
                step += 1
                if loss is not None:
                    if not math.isfinite(loss):
                        interrupted, stop_reason = True, "diverged"
                        message = (f"training diverged at epoch {epoch + 1}, step {step}: loss is {loss}; "
                                   "try a lower learning rate")
                        break
                    losses.append(loss)
                if on_step is not None:
                    on_step(step, steps)
                if stop_event is not None and stop_event.is_set():
                    interrupted, stop_reason, message = True, "stopped", "stopped by request"
                    break
                elapsed = previous_seconds + time.perf_counter() - started
                if train_config.max_seconds is not None and elapsed >= train_config.max_seconds:
                    interrupted, stop_reason = True, "time_budget"
                    message = f"time budget of {train_config.max_seconds:g} s reached"
                    break
            if interrupted:
                break

        if stop_reason == "diverged":
            break
        if not losses:
            break
        predictor = Predictor.build(model, inputs)
        val_continuous = predictor.continuous(val_data[0], val_data[1])
        if not np.isfinite(val_continuous).all():  # finite losses, but weights that overflowed (a huge lr, say)
            stop_reason = "diverged"
            message = f"training diverged at epoch {epoch + 1}: the outputs are not finite; try a lower learning rate"
            break
        # DMF-D is selected on what it is for: its hard-quantized output.
        val_pred = predictor.discrete(val_continuous) if model.discrete else val_continuous
        val_areas = per_area(val_pred, val_data[2], val_area)
        val_rmse = val_areas["I"]["rmse"] if val_areas["I"] else rmse(val_pred, val_data[2])
        elapsed = previous_seconds + time.perf_counter() - started
        epoch_seconds = time.perf_counter() - epoch_started
        remaining = train_config.epochs - epoch - 1
        eta = remaining * epoch_seconds
        if train_config.max_seconds is not None:
            eta = min(eta, max(0.0, train_config.max_seconds - elapsed))
        report: dict[str, Any] = {
            "epoch": epoch + 1,
            "train_loss": float(np.mean(losses)),
            "val_rmse": val_rmse,
            "val_areas": {k: (v["rmse"] if v else None) for k, v in val_areas.items()},
            "val_rmse_continuous": rmse(val_continuous, val_data[2]),
            "lr": optimizer.param_groups[0]["lr"],
            "lambda": lam if model.discrete else None,
            "boundaries": model.quantizer.boundaries.detach().cpu().tolist() if model.quantizer else None,
            "elapsed": elapsed,
            "epoch_seconds": epoch_seconds,
            "eta_seconds": eta,
            "partial": interrupted,
        }
        if monitor is not None:
            monitor_started = time.perf_counter()
            report["monitor"] = monitor(model, inputs)
            started += time.perf_counter() - monitor_started
        history.append(report)
        quantizer_warming_up = model.discrete and lam is None
        if quantizer_warming_up:
            # A warm-up epoch is plain DMF + rounding, not DMF-D: never select it, never stop during it.
            stopper.hold()
            if quantizer.warmup_epochs is None:
                area_i = val_area == 0 if (val_area == 0).any() else np.ones(len(val_area), dtype=bool)
                warm_up.update(epoch + 1, rmse(val_continuous[area_i], val_data[2][area_i]), model)  # on area I
                if warm_up.should_stop:
                    warm_up.restore(model)
                    quantizer_start = epoch + 1
        else:
            stopper.update(epoch + 1, val_rmse, model)
        if on_epoch is not None:
            on_epoch(report)
        scheduler.step()
        if interrupted:
            break
        if on_checkpoint is not None:
            on_checkpoint(partial(ckpt.progress_state, model, optimizer, history, stopper, warm_up, quantizer_start))
        if stopper.should_stop:
            stop_reason = "early_stopping"
            message = f"no better validation RMSE for {train_config.patience} epochs"
            break

    if stop_reason == "diverged" and stopper.best_state is None:
        raise TrainingDiverged(message)  # no epoch worth keeping (none yet, or only DMF-D's warm-up)
    stopper.restore(model)
    model.eval()
    # The selected model's factors, embedded once: the calibration and the run's test scores both read them (the
    # cosine weights are applied at prediction time, so fitting them leaves the factors valid).
    predictor = Predictor.build(model, inputs)
    calibration = calibrate(model, predictor, data, split)
    return TrainResult(
        model=model,
        inputs=inputs,
        history=history,
        stop_reason=stop_reason,
        epochs_run=len(history),
        train_seconds=previous_seconds + time.perf_counter() - started,
        device=str(device),
        best_epoch=stopper.best_epoch,
        optimizer_state=optimizer.state_dict(),
        message=message,
        train_config=train_config,
        derived=derived,
        calibration=calibration,
        biases=biases,
        predictor=predictor,
    )


# A block's cosines as one product U·Vᵀ when at least 1 cell in DENSE_BLOCK_DENSITY is a target (and the product
# stays under DENSE_BLOCK_CELLS cells): on ML-1M (3.5% of a block's cells are targets) that is 2.2× cheaper, forward and
# backward, than gathering two factor rows per target (22k × 256 floats each, beyond the cache); at 1% it is 1.5×
# dearer (1 CPU thread, benchmarks/profile_epoch.py). Sparser blocks (ML-25M: 0.3%) keep the gather.
DENSE_BLOCK_DENSITY = 64
DENSE_BLOCK_CELLS = 1 << 24


def _block_cosines(user_factors: torch.Tensor, item_factors: torch.Tensor, rows: torch.Tensor,
                   cols: torch.Tensor) -> torch.Tensor:
    """cos(U_rows[k], V_cols[k]) for each target k of a block (the factors are unit vectors)."""
    cells = len(user_factors) * len(item_factors)
    if cells <= DENSE_BLOCK_CELLS and len(rows) * DENSE_BLOCK_DENSITY >= cells:
        return (user_factors @ item_factors.T).flatten()[rows * len(item_factors) + cols]
    return (user_factors[rows] * item_factors[cols]).sum(-1)


def _kept(batch: SparseBatch, hidden: torch.Tensor | None, dropout: float) -> SparseBatch:
    """A step's input entries: all but the `hidden` ones (the block's own targets), each kept with probability
    1 - `dropout` (input dropout); selected in one pass."""
    keep = None if hidden is None else ~hidden
    if dropout > 0:
        drawn = torch.rand(len(batch.indices), device=batch.indices.device) >= dropout
        keep = drawn if keep is None else keep & drawn
    return batch if keep is None else batch.keep(keep)


def _train_step(
    model: DMFNet,
    optimizer: torch.optim.Optimizer,
    user_chunk: torch.Tensor,
    user_batch: SparseBatch,
    in_block_user: torch.Tensor,
    item_chunk: torch.Tensor,
    item_batch: SparseBatch,
    config: TrainConfig,
    lam: float | None,
) -> float | None:
    device = item_chunk.device
    in_block_item = torch.zeros(model.n_items, dtype=torch.bool, device=device)
    in_block_item[item_chunk] = True
    target_sel = in_block_item[user_batch.indices]
    if not bool(target_sel.any()):
        return None
    item_position = torch.empty(model.n_items, dtype=torch.long, device=device)
    item_position[item_chunk] = torch.arange(len(item_chunk), device=device)
    target_rows = user_batch.bags[target_sel]
    target_cols = item_position[user_batch.indices[target_sel]]
    targets = user_batch.values[target_sel]

    user_in = _kept(user_batch, target_sel if config.mask_targets else None, config.input_dropout)
    item_in = _kept(item_batch, in_block_user[item_batch.indices] if config.mask_targets else None,
                    config.input_dropout)
    user_factors = model.embed_users(user_in)
    item_factors = model.embed_items(item_in)
    cosine = _block_cosines(user_factors, item_factors, target_rows, target_cols)
    predicted = model.rating(cosine, user_chunk[target_rows], item_chunk[target_cols])
    true = unscale_ratings(targets, model.rating_scale)
    half = (model.rating_scale[1] - model.rating_scale[0]) / 2
    if model.quantizer is None or lam is None:
        # On the [-1, 1] scale of the cosine (for the paper's output, exactly (cos - scaled rating)²), so the
        # learning rate means the same on any rating scale.
        mse = torch.mean((predicted - true) ** 2)
        loss = mse / half**2
    else:
        mse = torch.mean((model.quantizer(predicted, lam) - true) ** 2)
        loss = mse + config.quantizer.gamma2 * model.quantizer.penalty()
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    # Reported in one unit for DMF, DMF-D and its warm-up: mean squared error in rating units (stars²).
    return float(mse.detach())
