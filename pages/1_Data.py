"""Data: choose the rating matrix (demo, a local MovieLens release, download, upload), look at it, and set the split
(new users and items, and the validation and test shares)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pandas as pd
import streamlit as st

from dmf_core import figures as plots
from dmf_core.config import SplitConfig
from dmf_core.data import RELEASES, find_movielens, load_upload, parse_rating_scale
from dmf_core.data.download import NAMES, download_movielens
from dmf_core.data.ratings import scale_label
from dmf_core.data.sources import release_label
from dmf_core.data.split import AREAS
from dmf_core.errors import one_line
from studio import cache, data_paths, state, stats, ui

ui.setup(
    "Data",
    "A rating matrix $M$ has one row per user and one column per movie, and most of it is empty "
    "($|\\Omega| \\ll nm$). Choose the data, look at its shape, then decide which users and movies are held out "
    "as *new*: that is what splits the matrix into the paper's areas I–IV.",
)

SPLIT_MESSAGE = "studio_split_message"
SOURCES = {
    "demo": "Demo (built-in)",
    "local": "MovieLens on this computer",
    "download": "Download MovieLens",
    "upload": "Upload a file",
}


def use(ref: state.DatasetRef) -> bool:
    """Switch to `ref` only if it loads; on failure the current dataset stays and the reason is shown. On success
    the page reruns, so the sidebar (drawn before this) shows the new data too."""
    try:
        loaded = cache.load(ref)
    except (ValueError, OSError) as error:
        st.session_state[state.DATA_MESSAGE] = ("error", f"Could not load {ref.label}: {one_line(error)}")
        return False
    state.set_dataset(ref)
    data = loaded.data
    st.session_state[state.DATA_MESSAGE] = (
        "success", f"Loaded {ref.label}: {data.n_users:,} users, {data.n_items:,} items, {data.n_ratings:,} ratings.")
    st.rerun()
    return True


def save_upload(name: str, payload: bytes, scale_text: str = "") -> state.DatasetRef:
    """Check the upload parses, then keep it under data/uploads/<digest>/ so runs trained on it can be reopened;
    a scale given by hand is kept beside it (`cache.upload_scale`)."""
    scale = parse_rating_scale(scale_text) if scale_text.strip() else None  # ValueError: one line
    load_upload(name, payload, scale)  # raises DataError with a one-line reason; nothing is written for a bad file
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).name) or "upload"
    digest = hashlib.sha256(payload + (f"\0{scale_text.strip()}".encode() if scale else b""))
    folder = state.upload_dir() / digest.hexdigest()[:16]
    folder.mkdir(parents=True, exist_ok=True)
    if scale:
        (folder / cache.UPLOAD_SCALE_FILE).write_text(scale_text.strip())
    target = folder / safe
    if not target.exists():
        target.write_bytes(payload)
    return state.DatasetRef(str(target), f"upload: {Path(name).name}")


st.subheader("1. Choose the data")
source = st.radio("Source", list(SOURCES), format_func=SOURCES.get, horizontal=True, key="data-source")

if source == "demo":
    st.caption("1,500 users × 1,000 generated movies, ~100k ratings with MovieLens-1M's star histogram and long "
               "tails. Generated from a seed: nothing to download.")
    if st.button("Use the demo data", key="data-use-demo"):
        use(state.DEMO)
elif source == "local":
    release = st.selectbox("Release", RELEASES, index=RELEASES.index("ml-1m"), format_func=release_label,
                           key="data-local-release", help="Where it is looked for: data/<name>, data/<name>.zip, "
                           "$DMF_<NAME>_DIR (e.g. DMF_ML100K_DIR), then ../shared/data/<name>.")
    try:
        found = str(find_movielens(release, state.data_dir()))
    except ValueError:
        found = ""
    st.caption("A folder with ratings.dat (and movies.dat for titles), ml-100k's u.data (with u.item and u.user), "
               "or the release's zip. Other formats work too: a CSV/TSV of user, item, rating."
               + (f" Found: `{found}`" if found else f" No {release_label(release)} found yet."))
    path = st.text_input("Path", value=found, key=f"data-path-{release}" if release != "ml-1m" else "data-path",
                         placeholder=f"/path/to/{release} or {release}.zip")
    if st.button("Load", key="data-load-path", disabled=not path.strip()):
        try:
            resolved = data_paths.check(path)  # only the data, shared and upload folders (DMF_DATA_PATHS)
        except data_paths.OutsideDataPaths as error:
            st.session_state[state.DATA_MESSAGE] = ("error", str(error))
        else:
            label = release_label(release) if found and resolved == Path(found).resolve() else resolved.name
            use(state.DatasetRef(str(resolved), label))
elif source == "download":
    release = st.selectbox("Release", NAMES, format_func=release_label, key="data-download-release",
                           help="ML-100K about 5 MB, ML-1M 6 MB, ML-10M 63 MB, ML-20M 190 MB, ML-25M 250 MB.")
    checks = "GroupLens' md5 and the sha256 of ratings.dat" if release == "ml-1m" else "GroupLens' published md5"
    st.caption(f"Fetches {release}.zip from files.grouplens.org, checks {checks}, and unpacks it into "
               f"`{state.data_dir() / release}`. Research use only; see its README.")
    if st.button(f"Download {release_label(release)}", key="data-download", icon=":material/cloud_download:"):
        bar = st.progress(0.0, text="Connecting to files.grouplens.org…")

        def progress(done: int, total: int) -> None:
            share = done / total if total else 0.0
            bar.progress(min(1.0, share), text=f"Downloading {release}.zip: {done / 1e6:.1f} of "
                         f"{total / 1e6:.1f} MB" if total else f"Downloading {release}.zip: {done / 1e6:.1f} MB")

        try:
            folder = download_movielens(release, state.data_dir(), progress=progress)
        except (ValueError, OSError) as error:
            bar.empty()
            st.session_state[state.DATA_MESSAGE] = ("error", f"Download failed: {one_line(error)}")
        else:
            bar.progress(1.0, text="Downloaded and verified.")
            use(state.DatasetRef(str(folder), release_label(release)))
else:
    upload = st.file_uploader("Ratings file", type=["zip", "dat", "data", "csv", "tsv", "txt"], key="data-upload",
                              help="ml-1m.zip, ratings.dat (UserID::MovieID::Rating::Timestamp), u.data "
                              "(tab-separated) or a CSV/TSV with user, item and rating columns.")
    scale_text = st.text_input("Rating scale (optional)", key="data-upload-scale", placeholder="e.g. 1:10 or 0.5:5:0.5",
                               help="LOW:HIGH or LOW:HIGH:STEP. Empty: read from the data (whole stars 1..5, half "
                               "stars 0.5..5 or 1..10 when the ratings fit one, else their own min..max and step).")
    if upload is not None and st.button(f"Use {upload.name}", key="data-use-upload", type="primary"):
        try:
            ref = save_upload(upload.name, upload.getvalue(), scale_text)
        except (ValueError, OSError) as error:
            st.session_state[state.DATA_MESSAGE] = ("error", f"Could not read {upload.name}: {one_line(error)}")
        else:
            use(ref)

message = st.session_state.pop(state.DATA_MESSAGE, None)
if message:
    (st.error if message[0] == "error" else st.success)(message[1])

ref = state.dataset()
try:
    data = cache.load(ref).data
except (ValueError, OSError) as error:
    st.error(f"The selected data cannot be read any more ({one_line(error)}); switching back to the demo.")
    state.set_dataset(state.DEMO)
    data = cache.load(state.DEMO).data
    ref = state.DEMO

st.subheader(f"2. What the matrix looks like: {ref.label}")
overview = cache.overview(ref)
cols = st.columns(5)
cols[0].metric("users (rows)", f"{data.n_users:,}")
cols[1].metric("items (columns)", f"{data.n_items:,}")
cols[2].metric("ratings", f"{data.n_ratings:,}")
cols[3].metric("sparsity", f"{1 - data.density:.2%}", help=f"density {data.density:.3%}: share of cells rated")
cols[4].metric("rating scale", f"{data.rating_scale[0]:g}–{data.rating_scale[1]:g}",
               help=f"{scale_label(data.rating_scale, data.rating_step)}: the levels DMF-D and rounding use")
cols = st.columns(3)
cols[0].plotly_chart(plots.rating_histogram(overview.rating_values, overview.rating_counts), width="stretch",
                     key="data-hist")
cols[1].plotly_chart(plots.count_distribution(overview.activity, "users", "user"), width="stretch",
                     key="data-activity")
cols[2].plotly_chart(plots.count_distribution(overview.popularity, "items", "item"), width="stretch",
                     key="data-popularity")

left, right = st.columns([1, 3])
how = left.radio("Window of the matrix", ["random", "dense"], key="data-window",
                 format_func={"random": "random users × items", "dense": "most active × most popular"}.get,
                 help="A random window shows how empty the matrix really is; the dense corner shows structure.")
seed = left.number_input("sample seed", 0, 10_000, 0, key="data-window-seed", disabled=how == "dense")
window = cache.window(ref, how, int(seed))
right.plotly_chart(plots.matrix_heatmap(window.values, data.rating_scale,
                                        f"{len(window.users)} users × {len(window.items)} items, "
                                        f"{window.density:.1%} filled"), width="stretch", key="data-heatmap")

st.subheader("3. Hold out new users and items: areas I–IV")
current = state.split_config()
observed = 1 - current.val_frac - current.test_frac
st.markdown("Held-out users and items never reach training. Their ratings are still used *as inputs* after "
            "training (a new user's row, a new item's column), which is how DMF scores areas II–IV without "
            f"retraining. Independently, every rating is observed ({observed:.0%}), validation "
            f"({current.val_frac:.0%}) or test ({current.test_frac:.0%}): the model is trained on observed ratings, "
            "selected on validation and scored on test.")
LITERATURE = {"split-new-users": 0, "split-new-items": 0, "split-val": 0.05, "split-test": 0.10}


def use_literature_protocol() -> None:
    """The published papers' protocol: a random 90/10 of all ratings, 5% validation taken from the 90, nobody held
    out. The form's fields follow, so Apply keeps it."""
    st.session_state.update(LITERATURE)
    seed = int(st.session_state.get("split-seed", state.split_config().seed))
    state.set_split(SplitConfig(0.0, 0.0, LITERATURE["split-val"], LITERATURE["split-test"], seed))
    st.session_state[SPLIT_MESSAGE] = ("Split applied: the literature's protocol (no new users or items; 85% "
                                       "observed, 5% validation, 10% test).")


with st.form("data-split"):
    cols = st.columns(5)
    new_users = cols[0].slider("new users", 0, 50, int(round(current.new_user_frac * 100)), format="%d%%",
                               key="split-new-users", help="Share of users held out: areas II and IV.")
    new_items = cols[1].slider("new items", 0, 50, int(round(current.new_item_frac * 100)), format="%d%%",
                               key="split-new-items", help="Share of items held out: areas III and IV.")
    val = cols[2].number_input("validation share", min_value=0.0, max_value=0.95, value=current.val_frac, step=0.01,
                               format="%.2f", key="split-val", help="Share of every area's ratings kept to select "
                               "the model (the epoch, early stopping, the new rows' cosine weights); never trained "
                               "on.")
    test = cols[3].number_input("test share", min_value=0.0, max_value=0.95, value=current.test_frac, step=0.01,
                                format="%.2f", key="split-test", help="Share of every area's ratings kept to score "
                                "the model; never trained on, never used to select it. The paper's Table 1: 0.20; "
                                "the literature's random 90/10: 0.10.")
    split_seed = cols[4].number_input("split seed", value=current.seed, step=1, key="split-seed",
                                      help="Which users, items and ratings are drawn; same seed, same split.")
    if st.form_submit_button("Apply split", type="primary"):
        candidate = SplitConfig(new_users / 100, new_items / 100, float(val), float(test), int(split_seed))
        try:
            candidate.validate()
        except ValueError as error:
            st.error(f"Split not changed: {one_line(error)}")
        else:
            state.set_split(candidate)
            st.session_state[SPLIT_MESSAGE] = "Split applied; the Train page will use it."
            st.rerun()  # redraw the sidebar and the area counts with the new split
st.button("Use the literature's protocol", key="split-literature", on_click=use_literature_protocol,
          help="No new users or items, 5% validation, 10% test: the random 90/10 split published rating-prediction "
          "results use (validation taken from the 90). Areas II–IV are then empty.")

if st.session_state.get(SPLIT_MESSAGE):
    st.success(st.session_state.pop(SPLIT_MESSAGE))
split = cache.split(ref, state.split_config())
sizes = stats.area_sizes(split)
left, right = st.columns([3, 2])
left.plotly_chart(plots.area_blocks(sizes.seen_users, sizes.new_users, sizes.seen_items, sizes.new_items,
                                    sizes.ratings), width="stretch", key="data-areas")
table = pd.DataFrame([{"area": a, **sizes.roles[a], "total": sizes.ratings[a]} for a in AREAS]).set_index("area")
right.dataframe(table, width="stretch", key="data-area-counts")
right.caption("Training uses the *observed* ratings of area I. Test ratings of every area are scored after.")
