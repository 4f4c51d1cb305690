"""What a saved run is, read from its metrics.json for display: the prediction formula of its output (the one text
every page shows), whether its DMF-D quantizer was ever trained, and its title in run pickers. No Streamlit here.

The metrics.json contract read here (written by dmf_core.runs.folder):
- `config.model.output`: "bias+cosine" (the default) or "cosine" (the paper's model);
- `calibration`: {"new_user_weight": ρ_users, "new_item_weight": ρ_items}, the cosine's weights for new rows,
  fitted on the validation ratings of areas II and III (dmf_core/training/calibration.py);
- `companion` (DMF runs since the I-AutoRec companion): {"kind", "trained", "blend", "val_rmse_dmf_alone",
  "val_rmse_companion_alone", "val_rmse_blend", "val_rmse_blend_cross_fitted", "dmf_alone_areas", "note", ...}
  (dmf_core/training/companion.py); where
  `trained` is true, the run's area-I figures are the blend's (areas II-IV are DMF's alone);
- DMF-D runs: `quantizer` = {"trained", "epochs", "lambda", "warmup_epochs", "note"}; where `trained` is false,
  `discrete` and `discrete_overall` are absent or null. Older files without `quantizer` are read from `lambda`
  (null: never trained) and the history's per-epoch λ.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dmf_core.config import ModelConfig
from dmf_core.training.phases import kept_start_reason

NEVER_TRAINED = "quantizer never trained"
PAPER_OUTPUT = "cosine"

# r̂ for each output, in LaTeX. m = (low + high) / 2 is mid-scale, h = (high - low) / 2 the half-range.
_LATEX = {
    "cosine": r"\hat r_{ij} = m + h\,\cos(U_i, V_j)",
    "bias+cosine": r"\hat r_{ij} = \mu + b_i + b_j + h\,\rho_{ij}\,\cos(U_i, V_j)",
}
_COSINE = r"\cos(U_i, V_j) = \frac{U_i^\top V_j}{\lVert U_i\rVert\,\lVert V_j\rVert}"


def output_of(metrics: dict[str, Any] | None) -> str:
    """The run's output ("bias+cosine" or "cosine"); the default where the file does not say (as checkpoints
    load)."""
    config = ((metrics or {}).get("config") or {}).get("model") or {}
    return str(config.get("output") or ModelConfig().output)


def formula_latex(output: str) -> str:
    """The prediction formula of a run with this output, in LaTeX, with the cosine spelled out."""
    return f"{_LATEX.get(output, _LATEX['bias+cosine'])}, \\qquad {_COSINE}"


# A run with a trained companion blends DMF's r̂ with an I-AutoRec's where both know the pair (area I).
BLEND_LATEX = (r"\tilde r_{ij} = a\,\hat r_{ij} + c\,\mathrm{AutoRec}_{ij} + e"
               r" \quad \text{(user and movie seen in training: area I)}")


def companion_trained(metrics: dict[str, Any] | None) -> bool:
    """True for a run whose ratings for seen users are a blend of DMF and its trained I-AutoRec companion."""
    return bool(((metrics or {}).get("companion") or {}).get("trained"))


def blend_notes(metrics: dict[str, Any] | None) -> str:
    """What the blend of a run with a trained companion is, with its fitted weights; "" for any other run."""
    if not companion_trained(metrics):
        return ""
    blend = (metrics or {}).get("companion", {}).get("blend") or {}
    seen = blend.get("I")
    fitted = (f" (this run: a = {seen['dmf']:.2f}, c = {seen['companion']:.2f}, "
              f"e = {seen['offset']:.2f})" if seen else "")
    return ("This run blends DMF's $\\hat r_{ij}$ with an I-AutoRec's (an item autoencoder trained after DMF on the "
            "same ratings) for a user and a movie both seen in training (area I): $a$, $c$ and $e$ are least-squares "
            f"weights fitted on area I's *validation* ratings{fitted}. New users and new movies (areas II-IV) are "
            "scored by DMF alone: the autoencoder has no output for a new user, and for new movies the blend did "
            "not win everywhere on validation.")


def _half_range(scale: tuple[float, float] | None) -> str:
    return "$h$ is half the rating scale's range" + (f" (${(scale[1] - scale[0]) / 2:g}$)" if scale else "")


def _mid_scale(scale: tuple[float, float] | None) -> str:
    return "$m$ is the middle of the rating scale" + (f" (${(scale[0] + scale[1]) / 2:g}$)" if scale else "")


def formula_notes(output: str, calibration: dict[str, Any] | None = None,
                  scale: tuple[float, float] | None = None) -> str:
    """What the symbols of `formula_latex(output)` are, in one paragraph of Markdown. With a run's `calibration`,
    the fitted weights ρ for new rows are given as numbers."""
    vectors = ("$U_i$ and $V_j$ are the user branch's output for user $i$'s row of ratings and the item branch's "
               "for movie $j$'s column")
    if output == PAPER_OUTPUT:
        return (f"The paper's model (output *cosine*): {vectors}; {_mid_scale(scale)} and {_half_range(scale)}. Every pair, seen or new, "
                "is scored by the same formula.")
    weights = calibration or {}
    users, items = weights.get("new_user_weight"), weights.get("new_item_weight")
    fitted = (f" (this run: ρ_users = {users:.2f}, ρ_items = {items:.2f})"
              if isinstance(users, (int, float)) and isinstance(items, (int, float)) else "")
    return (f"Output *bias+cosine* (DMF Studio's default): $\\mu$ is the mean training rating, $b_i$ and $b_j$ the "
            "user's and the movie's biases (folded in from their ratings for users and movies never trained on), "
            f"{vectors}, and {_half_range(scale)}. "
            "$\\rho_{ij}$ is the weight of the cosine: **1 for a seen user and a seen movie** (area I); for a new "
            "user (area II) it is ρ_users, for a new movie (area III) ρ_items, and for a new user with a new movie "
            "(area IV) their product ρ_users·ρ_items. ρ_users and ρ_items are least-squares weights in [0, 1] "
            f"fitted after training on the *validation* ratings of areas II and III{fitted}; no test rating is "
            "read. The paper's model is the cosine alone: "
            r"$\hat r_{ij} = m + h\,\cos(U_i, V_j)$.")


@dataclass(frozen=True)
class QuantizerState:
    """Whether a DMF-D run ever trained its quantizer, and how far it got."""

    trained: bool
    epochs: int | None  # quantizer epochs run (None: not recorded)
    lam: float | None  # λ reached
    warmup_epochs: int | None
    note: str
    # Validation kept the quantizer's start (the warm-up's weights with b at the midpoints): the run's DMF-D is
    # DMF + rounding, and λ reached describes epochs that were not kept.
    selected_start: bool = False
    # How many standard errors a quantizer epoch had to beat the start by on validation (None: not recorded)
    select_margin: float | None = None
    refitted: bool = False  # the fitted finish refitted b on validation after the selection

    def kept_start_reason(self) -> str:
        """Why validation kept the start, where the run recorded it (`training.phases.kept_start_reason`)."""
        return kept_start_reason({"select_margin": self.select_margin, "finish": "fitted" if self.refitted else ""})

    def kept_start_message(self) -> str:
        """What a page says of a run whose validation kept the quantizer's start ("" for any other run)."""
        if not self.selected_start:
            return ""
        reason = self.kept_start_reason()
        kept = ("its warm-up's weights, with b refitted on validation" if self.refitted
                else "its warm-up's weights with b at the midpoints, DMF + rounding, so its learned b equal b̃")
        return (f"Validation kept the quantizer's start{f' ({reason})' if reason else ''}: this run's DMF-D is "
                f"{kept}.")

    def summary(self) -> str:
        if not self.trained:
            return self.note or NEVER_TRAINED
        parts = [f"λ reached {self.lam:.4g}" if self.lam is not None else "λ not recorded"]
        if self.selected_start:
            parts[0] += " (not kept: validation chose the quantizer's start, DMF + rounding)"
        if self.epochs is not None:
            parts.append(f"{self.epochs} quantizer epoch{'s' if self.epochs != 1 else ''}")
        if self.warmup_epochs is not None:
            parts.append(f"after {self.warmup_epochs} warm-up epoch{'s' if self.warmup_epochs != 1 else ''}")
        return ", ".join(parts)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def quantizer_state(metrics: dict[str, Any] | None) -> QuantizerState | None:
    """None for a DMF run; for DMF-D, its quantizer's record (`metrics["quantizer"]`, or for older files what
    `lambda` and the history say)."""
    metrics = metrics or {}
    if metrics.get("model") != "dmf-d":
        return None
    record = metrics.get("quantizer")
    if isinstance(record, dict):
        trained = bool(record.get("trained"))
        epochs, warmup = _number(record.get("epochs")), _number(record.get("warmup_epochs"))
        note = str(record.get("note") or "")
        return QuantizerState(trained=trained, epochs=None if epochs is None else int(epochs),
                              lam=_number(record.get("lambda")),
                              warmup_epochs=None if warmup is None else int(warmup),
                              note=note if note or trained else NEVER_TRAINED,
                              selected_start=bool(record.get("selected_start")),
                              select_margin=_number(record.get("select_margin")),
                              refitted=record.get("finish") == "fitted")
    history = [h for h in metrics.get("history") or [] if isinstance(h, dict)]
    lam = _number(metrics.get("lambda"))
    quantized = sum(1 for h in history if _number(h.get("lambda")) is not None)
    trained = lam is not None
    return QuantizerState(
        trained=trained, epochs=quantized if history else None, lam=lam,
        warmup_epochs=len(history) - quantized if history else None,
        note="" if trained else f"{NEVER_TRAINED}: the run ended before its quantizer started (no λ recorded)")


def quantizer_trained(metrics: dict[str, Any] | None) -> bool:
    """True only for a DMF-D run whose quantizer trained: the only runs whose discrete figures are DMF-D's."""
    quantizer = quantizer_state(metrics)
    return quantizer is not None and quantizer.trained


def model_label(metrics: dict[str, Any] | None) -> str:
    """"DMF", "DMF + I-AutoRec" (blended with its companion), "DMF-D", or "DMF-D (quantizer never trained)"."""
    model = str((metrics or {}).get("model", "?")).upper()
    quantizer = quantizer_state(metrics)
    if companion_trained(metrics):
        return f"{model} + I-AutoRec"
    return f"{model} ({NEVER_TRAINED})" if quantizer is not None and not quantizer.trained else model


@dataclass(frozen=True)
class ColdStartLabels:
    """What the cold-start chart draws beside its curve of new users, and the names of both."""

    reference: float | None  # area I's test RMSE, of the model that scores the new users
    reference_name: str
    curve_name: str


def cold_start_labels(metrics: dict[str, Any] | None) -> ColdStartLabels:
    """Like beside like: new users are scored by DMF alone (the companion knows no new user), so where a run blends
    area I with its companion the line for seen users is DMF alone's area-I test RMSE (metrics.json's
    `companion.dmf_alone_areas`), not the blend's."""
    if companion_trained(metrics):
        alone = ((metrics or {}).get("companion") or {}).get("dmf_alone_areas") or {}
        model = f"{str((metrics or {}).get('model', 'dmf')).upper()} alone"
        return ColdStartLabels(_number(alone.get("I")), f"area I (seen users), {model}",
                               f"new users, {model}: RMSE, k ratings seen")
    model = model_label(metrics)
    area_i = ((metrics or {}).get("areas") or {}).get("I") or {}
    return ColdStartLabels(_number(area_i.get("rmse")), f"area I (seen users), {model}",
                           f"new users, {model}: RMSE, k ratings seen")


def run_title(run_id: str, metrics: dict[str, Any], label: str = "") -> str:
    """A run's title in pickers: id, label, model (flagged when its quantizer never trained), data, epochs and the
    test RMSE of its continuous output."""
    test = (metrics.get("overall") or {}).get("rmse")
    score = f", test RMSE {test:.3f}" if isinstance(test, (int, float)) else ""
    named = f" «{label}»" if label else ""
    return (f"{run_id}{named} ({model_label(metrics)} on {metrics.get('dataset', '?')}, "
            f"{metrics.get('epochs_run', 0)} ep{score})")


__all__ = ["BLEND_LATEX", "NEVER_TRAINED", "ColdStartLabels", "QuantizerState", "blend_notes", "cold_start_labels", "companion_trained", "formula_latex", "formula_notes", "model_label", "output_of",
           "quantizer_state", "quantizer_trained", "run_title"]
