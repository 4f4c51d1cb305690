"""Data: choose the rating matrix (demo, local MovieLens-1M, download, upload), look at it, and set the split."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pandas as pd
import streamlit as st

from dmf_core.config import SplitConfig
from dmf_core.data import find_ml1m, load_upload, parse_rating_scale
from dmf_core.data.download import download_ml1m
from dmf_core.data.ratings import scale_label
from dmf_core.errors import one_line
from dmf_core.split import AREAS
from studio import cache, plots, state, stats, ui

ui.setup(
    "Data",
    "A rating matrix $M$ has one row per user and one column per movie, and most of it is empty "
    "($|\\Omega| \\ll nm$). Choose the data, look at its shape, then decide which users and movies are held out "
    "as *new*: that is what splits the matrix into the paper's areas I–IV.",
)

SPLIT_MESSAGE = "studio_split_message"
SOURCES = {
    "demo": "Demo (built-in)",
    "local": "MovieLens-1M on this computer",
    "download": "Download MovieLens-1M",
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
    try:
        found = str(find_ml1m(state.data_dir()))
    except ValueError:
        found = ""
    st.caption("A folder with ratings.dat (and movies.dat for titles), or ml-1m.zip. Other formats work too: "
               "u.data (MovieLens-100K) or a CSV/TSV of user, item, rating." + (f" Found: `{found}`" if found
                                                                               else " None found yet."))
    path = st.text_input("Path", value=found, key="data-path", placeholder="/path/to/ml-1m or ml-1m.zip")
    if st.button("Load", key="data-load-path", disabled=not path.strip()):
        resolved = Path(path.strip()).expanduser()
        label = "MovieLens-1M" if resolved == Path(found) else resolved.name
        use(state.DatasetRef(str(resolved.resolve()) if resolved.exists() else str(resolved), label))
elif source == "download":
    st.caption("Fetches ml-1m.zip (about 6 MB) from files.grouplens.org, checks GroupLens' md5 and the sha256 of "
               f"ratings.dat, and unpacks it into `{state.data_dir() / 'ml-1m'}`. Research use only; see its README.")
    if st.button("Download MovieLens-1M", key="data-download", icon=":material/cloud_download:"):
        bar = st.progress(0.0, text="Connecting to files.grouplens.org…")

        def progress(done: int, total: int) -> None:
            share = done / total if total else 0.0
            bar.progress(min(1.0, share), text=f"Downloading ml-1m.zip: {done / 1e6:.1f} of "
                         f"{total / 1e6:.1f} MB" if total else f"Downloading ml-1m.zip: {done / 1e6:.1f} MB")

        try:
            folder = download_ml1m(state.data_dir(), progress=progress)
        except (ValueError, OSError) as error:
            bar.empty()
            st.session_state[state.DATA_MESSAGE] = ("error", f"Download failed: {one_line(error)}")
        else:
            bar.progress(1.0, text="Downloaded and verified.")
            use(state.DatasetRef(str(folder), "MovieLens-1M"))
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
st.markdown("Held-out users and items never reach training. Their ratings are still used *as inputs* after "
            "training (a new user's row, a new item's column), which is how DMF scores areas II–IV without "
            "retraining. Independently, every rating is observed (75%), validation (5%) or test (20%).")
current = state.split_config()
with st.form("data-split"):
    cols = st.columns(3)
    new_users = cols[0].slider("new users", 0, 50, int(round(current.new_user_frac * 100)), format="%d%%",
                               key="split-new-users", help="Share of users held out: areas II and IV.")
    new_items = cols[1].slider("new items", 0, 50, int(round(current.new_item_frac * 100)), format="%d%%",
                               key="split-new-items", help="Share of items held out: areas III and IV.")
    split_seed = cols[2].number_input("split seed", value=current.seed, step=1, key="split-seed",
                                      help="Which users, items and ratings are drawn; same seed, same split.")
    with st.expander("validation and test shares"):
        val = st.number_input("validation share", value=current.val_frac, step=0.01, format="%.2f", key="split-val")
        test = st.number_input("test share", value=current.test_frac, step=0.01, format="%.2f", key="split-test")
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
