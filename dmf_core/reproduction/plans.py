"""The reproduction's plans: which models each of the paper's tables runs, on which seeded split, and with what
explicit time budget and settings per model (`FULL_PLAN`, `QUICK_PLAN`). A plan builds each model (`make_model`),
so the runner treats DMF and the baselines alike."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ..config import ModelConfig, SplitConfig, TrainConfig, to_dict
from ..data.split import AREAS
from .base import Model
from .dmf import DMF_KEYS, DMFModel
from .models import make_baseline

TABLES = (1, 2)


@dataclass(frozen=True)
class Entry:
    """One measured row: which model to train, and which row of the paper's table it is compared with."""

    key: str  # model kind and results-file stem: dmf, dmf-d, u-autorec, i-autorec, mf, bias
    label: str
    paper: str | None = None


TABLE_ENTRIES: dict[int, tuple[Entry, ...]] = {
    1: (
        Entry("dmf", "DMF", "DMF"),
        Entry("u-autorec", "U-AutoRec", "U-AutoRec"),
        Entry("i-autorec", "I-AutoRec", "I-AutoRec"),
        Entry("mf", "Biased MF"),
        Entry("bias", "Global mean + biases"),
    ),
    2: (
        Entry("dmf-d", "DMF-D", "DMF-D"),
        Entry("dmf", "DMF + rounding"),
        Entry("mf", "Biased MF + rounding"),
        Entry("bias", "Global mean + biases + rounding"),
    ),
}
# Rows computed from another row's runs, with no training of their own: (row key, trained key, score prefix, label).
DERIVED_ENTRIES: dict[int, tuple[tuple[str, str, str, str], ...]] = {
    1: (),
    2: (("dmf-fitted", "dmf", "fitted_", "DMF + boundaries fitted on validation"),),
}
# Paired differences shown beside the means: (row key, baseline row key, label), per seed on the same split.
PAIRED: dict[int, tuple[tuple[str, str, str], ...]] = {
    1: (),
    2: (("dmf-d", "dmf", "DMF-D − (DMF + rounding)"),),
}
TITLES = {
    1: "Table 1: RMSE per area (I seen users × seen items, II new users, III new items, IV new × new)",
    2: "Table 2: discrete matrix completion (predictions on the rating grid)",
}
COLUMNS: dict[int, tuple[str, ...]] = {1: AREAS, 2: ("rmse", "mae", "accuracy", "continuous_rmse")}
COLUMN_LABELS = {"rmse": "RMSE", "mae": "MAE", "accuracy": "exact-match acc.", "continuous_rmse": "RMSE before rounding"}


def split_config(table: int, seed: int) -> SplitConfig:
    """The seeded split of a table: default fractions for Table 1, no new users or items for Table 2."""
    if table == 1:
        return SplitConfig(seed=seed)
    return SplitConfig(new_user_frac=0.0, new_item_frac=0.0, seed=seed)


# ---------------------------------------------------------------------------------------------------------------
# Plans: explicit per-model time budgets


@dataclass(frozen=True)
class Plan:
    """Seconds per seed for every (table, model) and the settings each model trains with. DMF stops at its budget
    (`max_seconds`); a baseline stops at its epoch cap or its budget, whichever comes first."""

    name: str
    seeds: int
    budgets: dict[int, dict[str, float]]
    baseline_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The paper's DMF: no companion (the blend with an I-AutoRec is DMF Studio's, not the paper's; ModelConfig).
    dmf_model: ModelConfig = field(default_factory=lambda: ModelConfig(companion="none"))
    dmf_train: TrainConfig = field(default_factory=TrainConfig)
    # DMF-D's own training settings (None: dmf_train's). DMF-D is a fine-tune of the converged DMF: with more epochs
    # and seconds than DMF, its automatic warm-up (at most phases.WARMUP_SHARE of either) can run DMF's whole run.
    dmf_d_train: TrainConfig | None = None

    def budget(self, table: int, key: str) -> float:
        return self.budgets[table][key]

    def planned_seconds(self, table: int, seeds: int) -> float:
        return seeds * sum(self.budgets[table][entry.key] for entry in TABLE_ENTRIES[table])

    def dmf_config(self, table: int, key: str, seed: int, device: str = "auto") -> TrainConfig:
        base = self.dmf_d_train if key == "dmf-d" and self.dmf_d_train is not None else self.dmf_train
        return replace(base, model=key, seed=seed, device=device, max_seconds=self.budget(table, key))

    def baseline_kwargs(self, table: int, key: str) -> dict[str, Any]:
        kwargs = dict(self.baseline_overrides.get(key, {}))
        if key != "bias":  # the bias fit is closed-form and takes well under a second
            kwargs["max_seconds"] = self.budget(table, key)
        return kwargs

    def make_model(self, table: int, key: str, seed: int, device: str = "auto") -> Model:
        """The model of one (table, key, seed), with this plan's settings and budget."""
        if key in DMF_KEYS:
            return DMFModel(self.dmf_model, self.dmf_config(table, key, seed, device))
        return make_baseline(key, seed, **self.baseline_kwargs(table, key))

    def settings(self, table: int, key: str) -> dict[str, Any]:
        """Everything a per-seed result depends on besides data and split; a saved result is reused only if equal."""
        if key in DMF_KEYS:
            train = to_dict(self.dmf_config(table, key, seed=0))
            train.pop("seed")
            train.pop("device")  # the same run on a GPU is still the same experiment
            if key != "dmf-d":
                train.pop("quantizer")  # DMF never reads it: a new quantizer setting must not retrain DMF
            return {"model": to_dict(self.dmf_model), "train": train}
        # The resolved config, defaults included: changing a baseline default must not reuse old results.
        config = to_dict(make_baseline(key, seed=0, **self.baseline_kwargs(table, key)).config)
        config.pop("seed", None)
        return {"baseline": config}


# Budgets come from single-seed timings on the 2-core development machine (REPRODUCTION.md). One seed plans 231 s
# for Table 1 and 731 s for Table 2, so 5 seeds of both plan 80.2 min: a cap, not the run's length. Every DMF and
# DMF-D run measured so far stopped early; on the idle machine the full run takes about 25 minutes.
# DMF-D runs its default (QuantizerConfig(), as the app does): its automatic warm-up is plain DMF's run, then the
# quantizer fine-tunes it. Its epoch cap and budget are loose (80 epochs, 600 s) so that the warm-up, which may take at
# most WARMUP_SHARE (0.75) of either, replays DMF's whole run (DMF stops early in 21-55 epochs, 42-106 s on the idle
# 2-core machine, several times that on a loaded one) and the pairing DMF-D − (DMF + rounding) is exact.
FULL_PLAN = Plan(
    name="full",
    seeds=5,
    budgets={
        1: {"dmf": 140.0, "u-autorec": 35.0, "i-autorec": 35.0, "mf": 20.0, "bias": 1.0},
        # DMF-D's budget covers DMF's run (its warm-up) and the fine-tune after it; the comparison with DMF +
        # rounding is paired, seed by seed, from the same DMF.
        2: {"dmf-d": 600.0, "dmf": 110.0, "mf": 20.0, "bias": 1.0},
    },
    baseline_overrides={
        "u-autorec": {"epochs": 30},
        "i-autorec": {"epochs": 30},
        "mf": {"epochs": 40},
    },
    dmf_d_train=TrainConfig(epochs=80),
)

# One seed and a fraction of the epochs: Table 1 + Table 2 on ML-1M in under 5 minutes on 2 cores (238 s of
# budgets plus overhead). DMF stops at 12 epochs (about 25 s on the idle machine), DMF-D at 16: its warm-up, at most
# WARMUP_SHARE of them, is DMF's 12-epoch run, then 4 quantizer epochs; its 90 s leave the warm-up 67 s, so it replays
# DMF's run even on a loaded machine (with both bound by time instead, a loaded machine gave the warm-up fewer epochs
# than DMF had, and DMF-D lost to rounding a better-trained DMF).
QUICK_PLAN = Plan(
    name="quick",
    seeds=1,
    budgets={
        1: {"dmf": 50.0, "u-autorec": 15.0, "i-autorec": 15.0, "mf": 8.0, "bias": 1.0},
        2: {"dmf-d": 90.0, "dmf": 50.0, "mf": 8.0, "bias": 1.0},
    },
    baseline_overrides={
        "u-autorec": {"epochs": 8, "lr_decay": 0.8},
        "i-autorec": {"epochs": 8, "lr_decay": 0.8},
        "mf": {"epochs": 10},
    },
    dmf_train=TrainConfig(epochs=12),
    dmf_d_train=TrainConfig(epochs=16),
)
