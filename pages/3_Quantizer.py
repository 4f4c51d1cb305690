"""Quantizer: the smooth G_{λ,b} turning into the hard Q_b as λ grows; a DMF-D run's learned b, its λ/b replay
over its outputs, and its confusion matrix; without a run, a sandbox with λ and b sliders."""

from __future__ import annotations

import numpy as np
import streamlit as st

from dmf_core import figures as plots
from dmf_core.data.ratings import scale_label
from dmf_core.model.quantizer import rating_levels, uniform_boundaries
from studio import cache, quantizer_view, runinfo, share, ui
from studio.analysis import boundary_moves, calibration_curve

ui.setup(
    "Quantizer",
    "DMF-D maps the continuous output $x$ to the rating levels (whole stars, half stars, …) with the step function "
    "$Q_b$ of eq. (3): the level changes where $x$ crosses a boundary $b_v$. Steps have no gradient, so training uses $G_{\\lambda,b}$ of eq. (4), "
    "where each step is a sigmoid of slope $\\lambda$; $\\lambda$ grows during training until $G$ *is* $Q_b$. "
    "The boundaries start at the uniform midpoints $\\tilde b$ between levels (1.5, 2.5, … on 1..5 in whole "
    "stars; 0.75, 1.25, … in half stars) and are learned.",
)
st.latex(r"G_{\lambda,b}(x)=\sum_{v=1}^{d-1}\left[I_v+\Delta\,\sigma\big(\lambda(x-b_v)\big)\right]"
         r"\mathbb{1}_{q_v\le x<q_{v+1}},\qquad \sigma(t)=\frac{1}{1+e^{-t}}")

SANDBOX_SCALE = (1.0, 5.0)
# A shared sandbox link (?lam=...&b=...) opens the sandbox with its λ and b (studio/share.py).
LAMBDAS = [float(f"{v:.3g}") for v in np.geomspace(0.1, 1000, 41)]
shared = share.sandbox_state(share.read_once("quant-url-read") or {}, uniform_boundaries(SANDBOX_SCALE),
                             LAMBDAS)
if shared:
    st.session_state.update(shared)
run = ui.pick_run("quant-run", discrete_only=True, allow_none="Sandbox: no run (move λ and b yourself)",
                  help="DMF-D runs only: DMF has no quantizer.", prefer_none=bool(shared))

analysis = None
if run is not None:
    with ui.guard(f"Could not open run {run.run_id}"):
        analysis = cache.analysis(run)

quantizer = runinfo.quantizer_state(run.metrics) if run is not None else None
trained = quantizer is not None and quantizer.trained
if analysis is not None:
    scale = analysis.data.rating_scale
    uniform = analysis.model.quantizer.uniform.tolist()
    boundaries = analysis.model.quantizer.boundaries.detach().tolist() if trained else list(uniform)
    source = (f"learned b of run {run.run_id}, on the scale {scale_label(scale, analysis.data.rating_step)}"
              if trained else f"uniform b̃ (run {run.run_id}: {runinfo.NEVER_TRAINED})")
else:
    scale = SANDBOX_SCALE
    uniform = uniform_boundaries(scale)
    # The sandbox sliders are drawn further down; their last values are already in the session.
    boundaries = [float(st.session_state.get(f"quant-b{v + 1}", u)) for v, u in enumerate(uniform)]
    source = "sandbox b" if boundaries != uniform else "uniform b̃"

st.subheader("1. Watch λ grow")
cols = st.columns([3, 1])
with cols[1]:
    frames = st.slider("frames", plots.MIN_FRAMES, plots.MAX_FRAMES, 100, step=10, key="quant-frames",
                       help="λ runs geometrically from 0.3 to 300 over this many frames.")
    st.caption(f"Press **Play** under the chart (or drag the λ slider). Boundaries: {source}. At small λ the "
               "curve is a gentle ramp: gradients flow. At large λ it is the step: outputs are rating levels.")
with cols[0]:
    st.plotly_chart(plots.quantizer_animation(boundaries, uniform, scale, n_frames=frames), width="stretch",
                    key="quant-animation")

if analysis is not None and not trained:
    st.subheader("2. What training learned")
    st.warning(f"Run `{run.run_id}` is labelled DMF-D, but its {quantizer.note if quantizer else runinfo.NEVER_TRAINED}."
               " It has no DMF-D results: its predictions are plain DMF's, and no λ or learned boundaries exist to "
               "replay. Train DMF-D with more epochs or a longer time budget to see them here.")
    st.metric("quantizer", runinfo.NEVER_TRAINED)
elif analysis is not None:
    metrics = run.metrics
    st.subheader("2. Learned b against rounding, on this run's test ratings")
    c1, c2, c3 = st.columns(3)
    c1.metric("λ reached", f"{quantizer.lam:.4g}" if quantizer.lam is not None else "–",
              help="The sigmoids' slope at the last quantizer epoch.")
    c2.metric("quantizer epochs", str(quantizer.epochs) if quantizer.epochs is not None else "–",
              help="Epochs trained with the quantizer on, after "
                   + (f"{quantizer.warmup_epochs} warm-up epoch(s) of plain DMF."
                      if quantizer.warmup_epochs is not None else "the warm-up of plain DMF."))
    if quantizer.selected_start:
        st.info(quantizer.kept_start_message() + " λ and b below are the quantizer epochs validation did not keep.")
    comparison = None
    with ui.guard(f"Could not score run {run.run_id}'s test ratings with each quantizer"):
        comparison = cache.quantizers(run)
    if comparison is not None:
        c3.metric("test ratings", f"{len(comparison.true):,}", help="Every area's test ratings: each row below is "
                  "scored on all of them, from the same continuous output.")
        st.plotly_chart(plots.star_histogram(comparison.outputs, comparison.true, comparison.levels, comparison.scale,
                                             comparison.learned, comparison.uniform, comparison.fitted),
                        width="stretch", key="quant-histogram")
        st.caption("Each colour is the test ratings of one true star, placed at the run's continuous output for them. "
                   "Every quantizer cuts the same x into stars: rounding at the midpoints b̃ (dotted), DMF-D at its "
                   "learned b (solid), and b fitted on the validation ratings (dashed).")
        st.plotly_chart(plots.quantizer_scores(comparison.table, comparison.continuous), width="stretch",
                        key="quant-scores")
        st.dataframe(quantizer_view.score_table(comparison), hide_index=True, width="stretch")
        st.caption(f"Run {run.run_id}'s test ratings, scored once per way to stars. Rounding is DMF + rounding of this "
                   "very output; the fitted b are chosen on the validation ratings only (as Table 2's third row); "
                   "global mean + biases, rounded, is the simple baseline. ± SE is the standard error of the "
                   "rating-by-rating difference from rounding: a difference within about two of them is noise. "
                   "Not quantized: RMSE "
                   f"{comparison.continuous['rmse']:.4f}, MAE {comparison.continuous['mae']:.4f}.")
        st.plotly_chart(plots.boundary_effects(comparison.effects), width="stretch", key="quant-effects")
        st.markdown("\n".join(f"- {line}" for line in quantizer_view.effect_lines(comparison)))
        st.caption("Between rounding and the learned b only the ratings whose output lies between b̃_v and b_v change "
                   "star, each by one step: the per-boundary nets add up to the exact-stars difference of the two rows. "
                   "γ₂‖b − b̃‖² keeps b near b̃.")
    st.subheader("3. λ and b during training")
    st.plotly_chart(plots.quantizer_schedule(metrics.get("history") or [], uniform), width="stretch",
                    key="quant-schedule")
    st.caption("λ (log scale) and each boundary, epoch by epoch as the run recorded them; the warm-up's epochs have "
               "no λ. The model kept is the epoch chosen on validation, so its b can differ from the last epoch's.")
    if any(h.get("val_rmse_vs_start") is not None for h in metrics.get("history") or []):
        st.plotly_chart(plots.quantizer_selection(metrics["history"], quantizer.select_margin,
                                                  metrics.get("best_epoch")), width="stretch", key="quant-selection")
        st.caption("Each dot is a quantizer epoch's validation RMSE minus the start's (DMF + rounding), rating by "
                   "rating on the same ratings; its bar adds the run's margin in standard errors of that difference. "
                   "The selection keeps an epoch over the start only if its bar ends below 0 (ringed: the epoch "
                   "kept, if any).")

    st.subheader("4. Replay of the run")
    st.caption("Each frame is one epoch: the quantizer with that epoch's λ and b, over the histogram of the final "
               "model's continuous outputs on the test ratings.")
    st.plotly_chart(plots.quantizer_replay(metrics.get("history") or [], analysis.test_pred, uniform, scale),
                    width="stretch", key="quant-replay")

    st.subheader("5. Predicted vs true stars (test set)")
    st.plotly_chart(plots.confusion_heatmap(analysis.confusion(), analysis.levels,
                                            "Confusion matrix of Q_b(x), rows normalised"), width="stretch",
                    key="quant-confusion")

    st.subheader("6. Calibration, and where b moved")
    curve = calibration_curve(analysis.test_pred, analysis.test_true, scale)
    st.plotly_chart(plots.calibration(curve, scale, boundaries, uniform), width="stretch", key="quant-calibration")
    st.markdown("\n".join(f"- {line}" for line in boundary_moves(boundaries, uniform, curve)))
    st.caption("Where the curve lies on the diagonal the output is calibrated, and the uniform midpoints already "
               "give the least squared error: rounding is RMSE-optimal there. The absolute error and exact-star "
               "accuracy reward other boundaries wherever the ratings around a midpoint are not split evenly "
               "between its two levels, and training moves b towards them; γ₂ holds b near b̃.")
else:
    st.subheader("2. Sandbox")
    if run is None:
        st.info("No DMF-D run selected: move λ and the boundaries yourself. Train a DMF-D run on the Train page "
                "to see learned boundaries and a replay here.")
    left, right = st.columns([1, 2])
    with left:
        lam = st.select_slider("λ", options=LAMBDAS, value=LAMBDAS[20], key="quant-lambda",
                               help="Slope of the sigmoids (log-spaced).")
        levels = rating_levels(scale)
        for v, (low, high) in enumerate(zip(levels[:-1], levels[1:], strict=True)):
            st.slider(f"b{v + 1} (between {low:g} and {high:g} stars)", float(low), float(high),
                      float(uniform[v]), step=0.01, key=f"quant-b{v + 1}")

        def reset() -> None:
            for v, u in enumerate(uniform):
                st.session_state[f"quant-b{v + 1}"] = float(u)

        st.button("Reset b to uniform b̃", on_click=reset, key="quant-reset")
    boundaries = [float(st.session_state[f"quant-b{v + 1}"]) for v in range(len(uniform))]
    right.plotly_chart(plots.quantizer_static(boundaries, uniform, lam, scale), width="stretch", key="quant-static")
    sandbox = {"lam": f"{lam:g}", "b": ",".join(f"{b:g}" for b in boundaries)}
    share.write(sandbox)
    with right:
        share.copy_link(sandbox, "Quantizer")
