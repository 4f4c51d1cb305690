"""Train: DMF or DMF-D with every hyperparameter, live progress, Stop, and the saved runs to compare/download."""

from __future__ import annotations

import uuid

import pandas as pd
import streamlit as st

from dmf_core import figures as plots
from dmf_core.device import describe_device, pick_device
from dmf_core.errors import one_line
from studio import cache, live, recovery, runinfo, state, train_form, ui

ui.setup(
    "Train",
    "Training fits the two branches on the *observed ratings of area I* only, by minimising the squared error of "
    "eq. (1), $\\frac{1}{|\\Omega_{tr}|}\\sum (F(X_i,Y_j)-M_{ij})^2 + \\gamma\\lVert W\\rVert^2$. Each step takes a "
    "block of users × items; the validation RMSE is measured after every epoch, for every area. Training runs "
    "in the background: you can visit other pages and come back.",
)

WATCH = "studio_watch_job"
ref = state.dataset()
split = state.split_config()
train_form.form()
with st.expander("Prediction formula of these settings", expanded=False):
    ui.show_formula(output=st.session_state.get(train_form.P + "output"))

device_name = st.session_state.get(train_form.P + "device", "auto")
with ui.guard("Device"):
    st.caption(f"Data: **{ref.label}** · split {split.new_user_frac:.0%} new users / {split.new_item_frac:.0%} new "
               f"items, seed {split.seed} (change on the Data page) · device in use: "
               f"**{describe_device(pick_device(device_name))}**")
    try:
        planned = train_form.configs()
    except ValueError:
        planned = None  # the Start button explains what is wrong
    if planned is not None:
        seconds = cache.epoch_seconds(ref, split, *planned)
        epochs = planned[1].epochs
        budget = planned[1].max_seconds
        total = min(seconds * epochs, budget) if budget else seconds * epochs
        per_epoch = f"{seconds:.1f} s" if seconds < 10 else ui.format_seconds(seconds)
        st.caption(f"Estimated: **{per_epoch} per epoch** (timed on a few real steps), so up to "
                   f"{ui.format_seconds(total)} for {epochs} epochs" + (" within the time budget" if budget else "")
                   + "; early stopping may end it sooner.")

START_ERROR = "studio_train_error"
REQUEST = "studio_train_request"  # one id per drawn Start button: a double click is one run
registry = cache.registry()


def start(request_id: str) -> None:
    """Start button callback: runs before the page is drawn, so the page already shows the new run (and a
    disabled Start button) in the same rerun. The registry checks every setting against the data first."""
    try:
        model_config, train_config = train_form.configs()
        loaded = cache.load(ref)
        job = registry.submit(
            state.owner(), loaded.data, split, model_config, train_config,
            label=str(st.session_state.get("train-label") or "").strip(),
            meta={"dataset_spec": ref.spec, "dataset_label": ref.label, "dataset_fingerprint": loaded.fingerprint},
            request_id=request_id,
        )
    except (ValueError, OSError) as error:
        st.session_state[START_ERROR] = f"Not started: {one_line(error)}"
    else:
        st.session_state[REQUEST] = uuid.uuid4().hex
        st.toast(f"Started {train_config.model.upper()} run {job.job_id}")


def resume(folder: str, spec: str, label: str) -> None:
    try:
        data = cache.load(state.DatasetRef(spec, label)).data
        job = registry.resume(state.owner(), folder, data)
    except (ValueError, OSError) as error:
        st.session_state[START_ERROR] = f"Not resumed: {one_line(error)}"
    else:
        st.toast(f"Resuming run {job.job_id}")


# This session's runs come from the registry by owner token, which the URL keeps: a reload still shows them, and
# may still stop them.
everyone = registry.snapshots()  # copied once per page run: histories can be long
mine = [s for s in everyone if s.owner == state.owner()]
my_active = [s for s in mine if s.active]
full = len(my_active) >= registry.max_active_per_owner

st.text_input("Run label (optional)", key="train-label", max_chars=60, placeholder="e.g. dropout 0.2, lr 1e-2")
request = st.session_state.setdefault(REQUEST, uuid.uuid4().hex)
st.button("Start training", type="primary", icon=":material/play_arrow:", key="train-start", on_click=start,
          args=(request,), disabled=bool(my_active),
          help="Queues the run; one run trains at a time on this server.")
if my_active:
    st.caption("Your run is still going: stop it or wait for it to finish before starting another."
               if not full else "This session has as many runs queued as the server allows.")
if st.session_state.get(START_ERROR):
    st.error(st.session_state.pop(START_ERROR))

interrupted = recovery.interrupted_runs(state.runs_root())
being_resumed = {s.job_id for s in everyone if s.active}
interrupted = [run for run in interrupted if run.run_id not in being_resumed]
if interrupted:
    with st.expander(f"{len(interrupted)} interrupted run(s): resume from the last saved epoch", expanded=True):
        st.caption("A crash, a kill or a server restart ended these mid-way. Every epoch was checkpointed, so a "
                   "resumed run goes on exactly where it stopped, with its own settings and split.")
        for run in interrupted:
            cols = st.columns([5, 1])
            cols[0].markdown(run.title)
            spec = str(run.record.get("dataset_spec") or "demo")
            cols[1].button("Resume", key=f"resume-{run.run_id}", icon=":material/replay:", on_click=resume,
                           args=(str(run.folder), spec, str(run.record.get("dataset_label") or spec)),
                           disabled=bool(my_active))

st.subheader("Progress")
# Runs of other sessions: watchable, not stoppable (except by the server's operator). The one being watched stays
# listed after it ends, so its outcome is shown rather than the panel vanishing.
watching = st.session_state.get(WATCH)
others = [s for s in everyone if s.owner != state.owner() and (s.active or s.job_id == watching)]
if mine:
    live.job_panel((my_active or mine)[0].job_id)
elif not others:
    st.caption("No run yet in this session. Press **Start training**.")
if others:
    running = sum(s.active for s in others)
    title = (f"{running} run(s) in progress from other browser sessions" if running
             else "A run from another browser session")
    with st.expander(title, expanded=not mine):
        st.caption("Visible to everyone, stoppable only by the session that started them"
                   + (" and by you, the server's operator." if state.is_admin() else "."))
        options = [s.job_id for s in others]
        watched = st.selectbox("Watch", options, key=WATCH, format_func=lambda j: next(
            f"{s.model.upper()} on {s.dataset} ({s.status}, {s.progress:.0%}) {s.job_id}" for s in others
            if s.job_id == j))
        if watched:
            live.job_panel(watched, compact=True)

st.subheader("Saved runs")
runs = cache.finished_runs()
if not runs:
    st.caption(f"None yet. Finished runs are kept in `{state.runs_root()}` (metrics.json + checkpoint.pt).")
else:
    rows = []
    for run in runs:
        m = run.metrics
        areas = m.get("areas") or {}
        base = (m.get("baseline") or {}).get("areas") or {}
        rows.append({
            "run": run.run_id, "label": run.label, "model": runinfo.model_label(m), "data": run.dataset,
            "epochs": m.get("epochs_run"), "stop": m.get("stop_reason"),
            # The selected epoch's: DMF-D's of its hard Q_b ("discrete"), else of the continuous output.
            "val RMSE": m.get("val_rmse"), "val kind": m.get("val_rmse_kind") or "",
            **{f"test RMSE {a}": (areas.get(a) or {}).get("rmse") for a in areas},
            # The same test ratings predicted by global mean + biases: what the run has to beat.
            **{f"biases RMSE {a}": (base.get(a) or {}).get("rmse") for a in base},
            "seconds": round(m.get("train_seconds") or 0.0, 1), "device": m.get("device"),
        })
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
                 column_config={c: st.column_config.NumberColumn(format="%.4f") for c in rows[0]
                                if "RMSE" in c})
    titles = {r.run_id: ui.run_title(r) for r in runs}
    chosen = st.multiselect("Compare runs", list(titles), default=list(titles)[:2], format_func=titles.get,
                            key="train-compare", max_selections=8)
    picked = [r for r in runs if r.run_id in chosen]
    if picked:
        left, right = st.columns(2)
        names = [f"{r.label or r.run_id[-6:]} ({runinfo.model_label(r.metrics)})" for r in picked]
        left.plotly_chart(plots.compare_runs([(n, r.metrics.get("history") or []) for n, r in zip(names, picked,
                                                                                               strict=True)]),
                          width="stretch", key="train-compare-curves")
        right.plotly_chart(plots.compare_areas([(n, r.metrics.get("areas") or {}) for n, r in zip(names, picked,
                                                                                               strict=True)]),
                           width="stretch", key="train-compare-areas")
    cols = st.columns([2, 1, 1])
    download = cols[0].selectbox("Download a run", list(titles), format_func=titles.get, key="train-download")
    record = next(r for r in runs if r.run_id == download)
    cols[1].download_button("metrics.json", data=lambda: record.metrics_path.read_bytes(), icon=":material/description:",
                            file_name=f"{record.run_id}-metrics.json", mime="application/json",
                            on_click="ignore", key="train-dl-metrics")
    cols[2].download_button("checkpoint.pt", data=lambda: record.checkpoint_path.read_bytes(), icon=":material/download:",
                            file_name=f"{record.run_id}-checkpoint.pt", mime="application/octet-stream",
                            on_click="ignore", key="train-dl-ckpt")
