"""Areas: test error per extension area (with the paper's Table 1 as labelled reference marks), error
distributions, the cold-start curve for new users, and DMF-D's discrete metrics per area."""

from __future__ import annotations

import streamlit as st

from dmf_core import figures as plots
from dmf_core.paper import TABLE2
from studio import cache, runinfo, ui
from studio.analysis import PAPER_TABLE1

ui.setup(
    "Areas",
    "Only area I (known users × known movies) is trained on. A new user $t$ is scored with their ratings row as "
    "input, $M_{tj} = F(M_{t,:}, M_{:,j})$; a new movie $k$ with its column, $M_{ik} = F(M_{i,:}, M_{:,k})$; area IV "
    "uses both. Here is how much each area costs in accuracy, and how a new user's error falls as the model "
    "sees more of their ratings.",
)

PAPER_DMFD = TABLE2["DMF-D"]
run = ui.pick_run("areas-run")
if run is None:
    ui.no_runs_hint()
    st.stop()

metrics = run.metrics
st.subheader("1. Test error per area")
left, right = st.columns([3, 2])
with right:
    st.dataframe(ui.area_table(metrics), width="stretch")
    show_paper = st.toggle("show the paper's Table 1 marks", value=True, key="areas-paper",
                           help="RMSE reported in the paper on MovieLens-1M (10% new users and items).")
    if show_paper:
        st.caption("◆ ✕ ▲ marks are **the paper's reported values** (Table 1, MovieLens-1M, average of 5 splits), "
                   f"not results of this run. This run: {runinfo.model_label(metrics)} on {run.dataset}"
                   + ("; the demo data is generated, so its numbers are not comparable." if run.dataset == "demo"
                      else "."))
left.plotly_chart(plots.area_scores(metrics.get("areas") or {}, PAPER_TABLE1 if show_paper else None,
                                    f"Test error per area: {runinfo.model_label(metrics)} on {run.dataset}"),
                  width="stretch", key="areas-scores")

quantizer = runinfo.quantizer_state(metrics)
trained = quantizer is not None and quantizer.trained
if quantizer is not None and not trained:
    st.subheader("DMF-D: discrete predictions per area")
    st.warning(f"This run is labelled DMF-D, but its {quantizer.note or runinfo.NEVER_TRAINED}: it has no DMF-D "
               "results, and the errors above are plain DMF's.")
if trained:
    st.subheader("DMF-D: discrete predictions per area")
    st.caption("Hard Q_b of the learned quantizer, against plain rounding of the same continuous output "
               f"(the paper's Table 2 reports RMSE {PAPER_DMFD['rmse']:.3f} / MAE {PAPER_DMFD['mae']:.3f} for DMF-D on "
               "MovieLens-1M).")
    if quantizer.selected_start:
        st.info(quantizer.kept_start_message() + " The two tables below are the same.")
    cols = st.columns(2)
    cols[0].markdown("**learned quantizer Q_b**")
    cols[0].dataframe(ui.area_table(metrics, "discrete"), width="stretch")
    cols[1].markdown("**rounding**")
    cols[1].dataframe(ui.area_table(metrics, "rounded"), width="stretch")

analysis = None
with ui.guard(f"Could not open run {run.run_id}"):
    analysis = cache.analysis(run)
if analysis is None:
    st.stop()

st.subheader("2. Error distributions")
discrete = False
if analysis.discrete and trained:
    discrete = st.toggle("discrete predictions (Q_b)", key="areas-discrete")
st.plotly_chart(plots.error_distributions(analysis.errors_by_area(discrete)), width="stretch", key="areas-errors")

st.subheader("3. Cold start: how many ratings does a new user need?")
st.caption("Each new user's input row keeps only k of their observed ratings (drawn at random); their area-II test "
           "ratings are then predicted. No retraining: one forward pass per user.")
seed = st.number_input("sampling seed", 0, 1000, 0, key="areas-seed")
with ui.guard("Could not compute the cold-start curve"):
    curve = cache.cold_start(run, int(seed))
    if curve.empty:
        st.info("This run's split has no new users with test ratings (new-user share 0?).")
    else:
        labels = runinfo.cold_start_labels(metrics)  # area I of the model that scores the new users
        if not trained:  # DMF-D's Q_b of a quantizer that never trained is no DMF-D figure
            curve = curve.drop(columns=["discrete_rmse", "discrete_mae"], errors="ignore")
        st.plotly_chart(plots.cold_start(curve, labels.reference, trained, labels.reference_name, labels.curve_name),
                        width="stretch", key="areas-coldstart")
        st.dataframe(curve, hide_index=True, width="stretch",
                     column_config={c: st.column_config.NumberColumn(format="%.4f")
                                    for c in ("rmse", "mae", "discrete_rmse", "discrete_mae") if c in curve})
