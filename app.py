"""DMF Studio home page: what DMF and DMF-D are, the four extension areas, and a one-click demo run.

Run with `streamlit run app.py`. The other pages live in pages/ (Streamlit's file-based navigation, so every page
also opens directly by URL, e.g. /Train).
"""

from __future__ import annotations

import os

# Before torch is imported: CPU threads that wait passively, as `python -m dmf_core` has them (dmf_core/__main__.py
# says why: spin-waiting is many times slower on shared cores). The app's choice, not the library's.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import streamlit as st  # noqa: E402

from dmf_core import figures as plots  # noqa: E402
from dmf_core.config import ModelConfig, SplitConfig  # noqa: E402
from studio import cache, live, state, stats, ui  # noqa: E402
from studio.presets import quick_preset  # noqa: E402

HOME_JOB = "studio_home_job"

ui.setup(
    "Home",
    "Fill in a sparse users × movies rating matrix with a neural network, then ask it about **people and movies "
    "it never saw during training**. This studio trains the models of *Matrix Factorization via Deep Learning* "
    "(Nguyen, Tsiligianni & Deligiannis) and lets you look inside them.",
    title="DMF Studio",
)

left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader("DMF: two networks and a cosine")
    st.markdown(
        "A user is described by their row of ratings $X_i$, a movie by its column $Y_j$. Two small networks "
        "map them to latent vectors $U_i$ and $V_j$, and their cosine similarity, rescaled to stars, is the "
        "prediction. DMF Studio's default model adds the global mean and each user's and movie's bias to it:"
    )
    ui.show_formula(output=ModelConfig().output)
    st.markdown(
        "Because the inputs are *rows and columns of ratings*, not ids, a brand-new user (or movie) is handled by "
        "one forward pass of their ratings: no retraining."
    )
    st.subheader("DMF-D: learning to output whole stars")
    st.markdown(
        "Ratings are discrete. DMF-D puts a quantizer with learnable boundaries $b$ on top of DMF. The hard "
        "step $Q_b$ has no gradient, so training uses sigmoids of slope $\\lambda$ and lets $\\lambda$ grow:"
    )
    st.latex(r"G_{\lambda,b}(x)=\sum_{v}\left[I_v+\Delta\,\sigma\big(\lambda(x-b_v)\big)\right]"
             r"\mathbb{1}_{q_v\le x<q_{v+1}} \;\xrightarrow{\;\lambda\to\infty\;}\; Q_b(x)")
with right:
    st.subheader("The four areas (Fig. 2)")
    st.caption("Some users and some movies are held out of training. Every rating then falls in one area:")
    with ui.guard("Could not draw the areas"):
        sizes = stats.area_sizes(cache.split(state.dataset(), state.split_config()))
        st.plotly_chart(plots.area_blocks(sizes.seen_users, sizes.new_users, sizes.seen_items, sizes.new_items,
                                          sizes.ratings), width="stretch", key="home-areas")
    st.markdown("**I** known users × known movies · **II** new users · **III** new movies · **IV** both new. "
                "Only area I is used for training.")

st.divider()
st.subheader("See it work: train a small model on the demo data")


def start_demo() -> None:
    """Button callback: queue a quick DMF run on the built-in demo data with the default split."""
    with ui.guard("Could not start the demo run"):
        loaded = cache.load(state.DEMO)
        model_config, train_config = quick_preset()
        job = cache.registry().submit(
            state.owner(), loaded.data, SplitConfig(), model_config, train_config, label="home demo",
            meta={"dataset_spec": state.DEMO.spec, "dataset_label": state.DEMO.label,
                  "dataset_fingerprint": loaded.fingerprint},
        )
        st.session_state[HOME_JOB] = job.job_id


home_job = cache.registry().get(st.session_state.get(HOME_JOB))
busy = home_job is not None and home_job.snapshot().active
st.button("Train a demo model", type="primary", icon=":material/rocket_launch:", key="home-train", on_click=start_demo, disabled=busy,
          help="DMF, hidden layers 128→64, 8 epochs on 1,500 users × 1,000 generated movies: a few seconds.")

if home_job is not None:
    snapshot = live.job_panel(home_job.job_id, compact=True)
    if snapshot is not None and snapshot.metrics:
        st.markdown("**Test error per area** (areas II–IV were never trained on), beside what averages alone get "
                    "on the same test ratings: the global mean plus each user's and each movie's bias. Lower is "
                    "better; a model that cannot beat the averages has learned nothing useful.")
        st.dataframe(ui.area_table(snapshot.metrics), width="content", key="home-results")
        state.select_run(snapshot.job_id)

st.divider()
st.markdown("**Next:**")
for label, path, what in [
    ("Data", ui.PAGES["Data"], "pick the demo, MovieLens-1M or your own file; set the split"),
    ("Train", ui.PAGES["Train"], "every hyperparameter, live curves, stop, compare and download runs"),
    ("Quantizer", ui.PAGES["Quantizer"], "watch G_λ,b turn into Q_b; replay a DMF-D run"),
    ("Areas", ui.PAGES["Areas"], "error per area against the paper's Table 1; the cold-start curve"),
    ("New user", ui.PAGES["New user"], "rate a few movies and get recommendations at once"),
    ("Latent map", ui.PAGES["Latent map"], "every user and movie as a point; the cosine as an angle"),
]:
    st.page_link(path, label=f"{label}: {what}", icon=ui.ICONS[label], query_params=state.url_params())
