"""Page setup and the pieces every page shares: the sidebar, run pickers and one-line error display."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pandas as pd
import streamlit as st

from dmf_core.data.split import AREAS
from dmf_core.errors import one_line
from dmf_core.runs.folder import RunRecord

from . import cache, runinfo, state

PAGES = {
    "Home": "app.py",
    "Data": "pages/1_Data.py",
    "Train": "pages/2_Train.py",
    "Quantizer": "pages/3_Quantizer.py",
    "Areas": "pages/4_Areas.py",
    "New user": "pages/5_New_user.py",
    "Latent map": "pages/7_Latent_map.py",
    "Playground": "pages/8_Playground.py",
}
# Material icons ship with Streamlit's frontend, so they render offline and without an emoji font.
ICONS = {
    "Home": ":material/home:",
    "Data": ":material/table_chart:",
    "Train": ":material/model_training:",
    "Quantizer": ":material/stairs:",
    "Areas": ":material/grid_view:",
    "New user": ":material/person_add:",
    "Latent map": ":material/scatter_plot:",
    "Results": ":material/fact_check:",
    "Playground": ":material/3d_rotation:",
}
# A page another engineer may add later (paper-table reproduction); linked only when its file exists.
OPTIONAL_PAGES = {"Results": "pages/6_Results.py"}


def setup(page: str, intro: str, title: str | None = None) -> None:
    """Every page starts here: page config, session defaults, the sidebar, then the title and a short intro
    saying what the learner is looking at."""
    page_title = "DMF Studio" if page == "Home" else f"{page} · DMF Studio"
    st.set_page_config(page_title=page_title, page_icon=ICONS[page], layout="wide")
    state.init()
    state.keep_in_url()
    sidebar()
    st.title(title or page)
    st.markdown(intro)


def navigation() -> None:
    """Our own page links: Streamlit's file-based menu would call the home page "app". Every page still has its
    own URL (/Data, /Train, ...), which works as a direct link on a freshly started server."""
    for name, path in PAGES.items():
        st.page_link(path, label=name, icon=ICONS[name], width="stretch", query_params=state.url_params())
    for name, path in OPTIONAL_PAGES.items():
        if (state.REPO_ROOT / path).is_file():
            st.page_link(path, label=name, icon=ICONS[name], width="stretch", query_params=state.url_params())


def sidebar() -> None:
    with st.sidebar:
        st.markdown("### DMF Studio")
        navigation()
        st.divider()
        ref = state.dataset()
        try:
            data = cache.load(ref).data
            st.markdown(f"**Data (Data page):** {ref.label}  \n{data.n_users:,} users · {data.n_items:,} items · "
                        f"{data.n_ratings:,} ratings")
        except (ValueError, OSError) as error:
            st.markdown(f"**Data (Data page):** {ref.label}")
            st.caption(f"not readable: {one_line(error)}")
        split = state.split_config()
        st.markdown(f"**Split:** {split.new_user_frac:.0%} new users · {split.new_item_frac:.0%} new items · "
                    f"seed {split.seed}")
        active = cache.registry().snapshots(owner=state.owner(), active_only=True)
        if active:
            snap = active[0]
            st.markdown(f"**Training:** {snap.model.upper()} on {snap.dataset}, {snap.status} "
                        f"({snap.progress:.0%})")
        st.caption(f"{len(cache.finished_runs())} saved runs in `{state.runs_root().name}/`")


@contextlib.contextmanager
def guard(what: str) -> Iterator[None]:
    """Show a failure as one line (`what: reason`) instead of a traceback; the rest of the page still renders."""
    try:
        yield
    except (ValueError, OSError, RuntimeError, KeyError) as error:
        st.error(f"{what}: {one_line(error)}")


def show_formula(metrics: dict | None = None, *, output: str | None = None,
                 scale: tuple[float, float] | None = None, notes: bool = True) -> None:
    """The prediction formula of the run shown (of `output` where no run is), and what its symbols are: one text
    for every page (runinfo.formula_latex / formula_notes)."""
    output = output or runinfo.output_of(metrics)
    st.latex(runinfo.formula_latex(output))
    if runinfo.companion_trained(metrics):
        st.latex(runinfo.BLEND_LATEX)
    if notes:
        st.caption(runinfo.formula_notes(output, (metrics or {}).get("calibration"), scale))
        if runinfo.companion_trained(metrics):
            st.caption(runinfo.blend_notes(metrics))


def run_title(run: RunRecord) -> str:
    """A run's title in pickers, with a DMF-D run whose quantizer never trained flagged as such."""
    return runinfo.run_title(run.run_id, run.metrics, run.label)


def pick_run(key: str, *, discrete_only: bool = False, allow_none: str | None = None,
             help: str | None = None, prefer_none: bool = False) -> RunRecord | None:
    """A selectbox over saved runs (newest first) that remembers the choice across pages; `prefer_none` opens it
    on the `allow_none` entry (a shared link to a page's sandbox)."""
    runs = [r for r in cache.finished_runs() if r.discrete or not discrete_only]
    options: list[str | None] = [r.run_id for r in runs]
    if allow_none is not None:
        options = [None, *options]
    if not options:
        return None
    titles = {r.run_id: run_title(r) for r in runs}
    wanted = state.selected_run()
    # The run chosen on another page if it fits here, else the newest run (not the "no run" entry).
    index = options.index(wanted) if wanted is not None and wanted in options else (1 if allow_none is not None and len(options) > 1 else 0)
    if prefer_none and allow_none is not None:
        index = 0
    choice = st.selectbox("Run", options, index=index, key=key, help=help,
                          format_func=lambda run_id: allow_none if run_id is None else titles[run_id])
    if choice is not None:
        state.select_run(choice)
    run = next((r for r in runs if r.run_id == choice), None)
    if run is not None:
        st.sidebar.markdown(f"**Run shown:** {run.run_id}  \n{run_data(run)}")
    return run


def run_data(run: RunRecord) -> str:
    """The data a run was trained on, with its size, as the run recorded it: a page that shows a run names the run's
    data, whatever the Data page has loaded since."""
    counts = run.metrics.get("counts") or {}
    users, items = counts.get("users") or {}, counts.get("items") or {}
    ratings = sum(int((row or {}).get("total", 0)) for area, row in counts.items() if area in ("I", "II", "III", "IV"))
    label = run.meta.get("dataset_label") or run.dataset
    size = (f": {sum(users.values()):,} users · {sum(items.values()):,} items · {ratings:,} ratings"
            if users and items else "")
    return f"trained on {label}{size}"


def no_runs_hint(what: str = "a run") -> None:
    st.info(f"No saved runs yet. Train {what} on the **Train** page (or press the button on **Home**).")
    st.page_link(PAGES["Train"], label="Go to Train", icon=ICONS["Train"], query_params=state.url_params())


BASELINE_COLUMN = "mean + biases RMSE"
DMF_ALONE_COLUMN = "DMF alone RMSE"  # runs blended with the I-AutoRec companion (dmf_core/training/companion.py)


def area_table(metrics: dict, key: str = "areas") -> pd.DataFrame:
    """Per-area rows (n, RMSE, MAE, and accuracy where present) from a metrics dict, with the RMSE that global
    mean + biases gets on the same test ratings beside them (rounded too, for rounded and discrete scores), and for
    a run blended with its companion, DMF alone's."""
    baseline = (metrics.get("baseline") or {}).get("areas" if key == "areas" else "rounded") or {}
    # A run blended with its companion: DMF alone's test RMSE beside the blend's (the same in areas II-IV).
    alone = ((metrics.get("companion") or {}).get("dmf_alone_areas") or {}) if key == "areas" else {}
    rows = []
    for area in AREAS:
        row = (metrics.get(key) or {}).get(area)
        base = baseline.get(area)
        if row:
            rows.append({"area": area, "test ratings": row["n"], "RMSE": round(row["rmse"], 4),
                         "MAE": round(row["mae"], 4),
                         **({"accuracy": round(row["accuracy"], 3)} if "accuracy" in row else {})})
        else:
            rows.append({"area": area, "test ratings": 0, "RMSE": None, "MAE": None})
        if baseline:
            rows[-1][BASELINE_COLUMN] = round(base["rmse"], 4) if base else None
        if alone:
            rows[-1][DMF_ALONE_COLUMN] = round(alone[area], 4) if alone.get(area) is not None else None
    return pd.DataFrame(rows).set_index("area")


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
