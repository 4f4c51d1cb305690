"""Results: the paper's Tables 1 and 2 as measured by `python -m dmf_core reproduce`, next to the paper's own
numbers (labelled as such), and a button that runs a smaller reproduction on the demo data in the background.

Everything shown is read from the saved results through `dmf_core.reproduction.tables`; this page only lays it out."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import streamlit as st

from dmf_core.reproduction import tables
from dmf_core.reproduction.plans import QUICK_PLAN, TABLES, TITLES
from studio import cache, literature, state, ui

SOURCE_KEY = "results-source"
SHOW_DEMO = "results_show_demo"  # set when the demo reproduction ends, so its tables are shown next

ui.setup(
    "Results",
    "The paper reports two tables on MovieLens-1M (random 75/5/20 splits, mean of 5 runs). Here they are "
    "**measured** with DMF Studio on the same seeded splits, next to baselines we can implement faithfully "
    "(U-AutoRec, I-AutoRec, biased MF, global mean + biases). Rows whose source is **paper** are copied from the "
    "paper, not measured here.",
)


def result_sources() -> dict[str, Path]:
    """Folders holding saved tables: the committed full run, then quick and demo runs (git-ignored scratch)."""
    root = tables.results_root()
    candidates = {
        "Full reproduction (MovieLens-1M, 5 seeds)": root,
        "Quick reproduction (MovieLens-1M)": tables.default_out("ml-1m", quick=True),
        "Quick demo reproduction (generated data)": demo_folder(),
    }
    return {label: folder for label, folder in candidates.items()
            if any((folder / f"table{t}.json").is_file() for t in TABLES)}


def demo_folder() -> Path:
    return tables.default_out(state.DEMO.spec, quick=True)


def styled(rows: list[dict[str, str]]) -> pd.io.formats.style.Styler:
    """Copied paper rows in grey italics, gaps in the default colour: measured numbers stand out."""
    frame = pd.DataFrame(rows)

    def row_style(row: pd.Series) -> list[str]:
        copied = row["Source"].startswith(("paper", "published"))
        return ["color: #808080; font-style: italic" if copied else ""] * len(row)

    return frame.style.apply(row_style, axis=1)


def show_table(table: int, summary: dict | None) -> None:
    st.subheader(TITLES[table])
    if summary is None:
        st.info(f"Table {table} has not been reproduced in this folder. Run `python -m dmf_core reproduce "
                f"--table {table}`. The paper's values:")
        st.dataframe(styled(tables.paper_rows(table)), hide_index=True, width="stretch", height="content",
                     key=f"results-paper-{table}")
        return
    data = summary["dataset"]
    seeds = max((len(row["seeds"]) for row in summary["rows"]), default=0)
    st.caption(f"{data['name']}: {data['ratings']:,} ratings · plan *{summary['plan']}* · {seeds} seed(s) · mean ± "
               f"std over seeds · training + evaluation {ui.format_seconds(summary['compute_seconds'])}")
    st.dataframe(styled(tables.display_rows(summary)), hide_index=True, width="stretch", height="content",
                 key=f"results-table-{table}")
    notes = ["–: the model cannot score that area; n/r: not reported by the paper. Gaps marked * exceed the "
             "seed-to-seed standard deviation (or there is only one seed).", summary["not_run_note"]]
    if not tables.is_comparable(summary):
        notes.append(f"The paper's values are for MovieLens-1M; {data['name']} is other data, so they are shown "
                     "for reference only.")
    hardware = summary.get("hardware") or {}
    if hardware:
        notes.append(f"Measured on {hardware['cpu']} ({hardware['cpu_count']} CPUs, {hardware['torch_threads']} "
                     f"torch threads; DMF on {hardware['dmf_device']}), written {summary['written']}.")
    st.caption("  \n".join(notes))


# --------------------------------------------------------------------------------------------- saved tables

sources = result_sources()
if st.session_state.pop(SHOW_DEMO, False):
    demo_label = next((label for label, folder in sources.items() if folder == demo_folder()), None)
    if demo_label is not None:
        st.session_state[SOURCE_KEY] = demo_label
if sources:
    choice = st.radio("Saved results", list(sources), key=SOURCE_KEY, horizontal=True)
    folder = sources[choice]
    st.caption(f"Read from `{folder}`")
else:
    folder = None
    st.info("No reproduction saved yet: run `python -m dmf_core reproduce` (about 45 minutes on 2 CPU cores) or "
            "`python -m dmf_core reproduce --quick` (under 5 minutes), or start a demo run below.")
for table in TABLES:
    show_table(table, tables.load_summary(folder, table) if folder is not None else None)

# --------------------------------------------------------------------------------------------- the literature

st.divider()
st.subheader("DMF against the literature, on the literature's protocol")
st.caption("Published rating-prediction results use a random 90/10 split of all ratings with nobody held out. "
           "`python benchmarks/bench_literature.py` runs DMF with default flags on that protocol (85/5/10: 5% "
           "validation taken from the 90%), over several seeds, **selected on validation**, and reruns its peers on "
           "the same splits. DMF's row is the paper's model with default flags; the blend row is "
           "`--companion i-autorec` (DMF blended with an I-AutoRec in area I, weights fitted on validation ratings), "
           "whose runs also gave the DMF row.")
report, why_not = literature.load()
if report is None:
    st.info(why_not)
else:
    for line in literature.missing(report):
        st.info(line)
    ours = literature.ours_rows(report)
    if ours:
        st.dataframe(pd.DataFrame(ours), hide_index=True, width="stretch", height="content",
                     key="results-literature-ours")
    areas = literature.area_rows(report)
    if areas:
        st.markdown("**Areas I–IV** (the paper's Table-1 split: 10% new users, 10% new items), where no published "
                    "method reports numbers:")
        st.dataframe(pd.DataFrame(areas), hide_index=True, width="stretch", height="content",
                     key="results-literature-areas")
    st.caption(literature.protocol_caption(report))
    published = literature.published_rows(report)
    if published:
        st.markdown("**Published, not rerun**: the best published area-I RMSEs, copied from the papers. *Selected "
                    "on test* means the reported figure is the best test RMSE over epochs (or on a held-out set "
                    "also used to choose the model); *scores new users* whether the method can score users "
                    "unseen in training, as DMF does.")
        st.dataframe(styled(published), hide_index=True, width="stretch", height="content",
                     key="results-literature-published")
        st.caption(report["published"].get("note", ""))

# --------------------------------------------------------------------------------------------- demo reproduction

st.divider()
st.subheader("Run a small reproduction on the demo data")
st.caption("Both tables on the generated demo data with the `--quick` budgets (one seed): one to three minutes on 2 CPU "
           "cores. It runs in the background and waits for any training run on this server to finish first. "
           "Seeds already saved with the same settings are reused.")


def start_demo(fresh: bool) -> None:
    with ui.guard("Could not start the demo reproduction"):
        running = cache.registry().reproduction(demo_folder())
        if running is not None and running.active:
            return
        if fresh:
            shutil.rmtree(demo_folder(), ignore_errors=True)  # scratch folder: nothing committed lives here
        data = cache.load(state.DEMO).data
        cache.registry().submit_reproduction(state.owner(), data, demo_folder(), QUICK_PLAN)


job = cache.registry().reproduction(demo_folder())
busy = job is not None and job.active
fresh = st.checkbox("start from scratch (delete the saved demo results first)", key="results-fresh", disabled=busy)
st.button("Run the demo reproduction", key="results-run", type="primary", icon=":material/play_arrow:",
          disabled=busy, on_click=start_demo, args=(fresh,))

if job is not None:

    @st.fragment(run_every=0.5 if busy else None)
    def progress_panel() -> None:
        snap = job.snapshot()
        if snap["status"] == "queued":
            st.info("Waiting for a training run on this server to finish…")
        elif snap["active"]:
            st.progress(snap["done"] / max(1, snap["total"]),
                        text=f"{snap['current'] or 'starting'} · {snap['done']}/{snap['total']} runs done · "
                        f"{ui.format_seconds(snap['elapsed'])}")
            st.caption(snap["line"])
        elif snap["status"] == "finished":
            st.success(f"Finished: {snap['total']} runs in {ui.format_seconds(snap['elapsed'])}. The tables above "
                       "now show the demo results.")
        elif snap["status"] == "stopped":
            st.warning("Stopped. Finished seeds are saved and will be reused next time.")
        else:
            st.error(f"The demo reproduction failed: {snap['error']}")
        if snap["active"] and job.owner == state.owner():
            st.button("Stop", key="results-stop", icon=":material/stop:", on_click=job.stop, args=(state.owner(),),
                      disabled=snap["stop_requested"])
        if busy and not snap["active"]:
            st.session_state[SHOW_DEMO] = True
            st.rerun()  # it just ended: one full rerun stops polling and lists the new tables

    progress_panel()
