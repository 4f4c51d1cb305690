"""Cached loaders. Keys are short strings and tuples (dataset key, split settings, run id and file times): a
million-row rating array is never hashed. Objects shared by every session (`cache_resource`) are treated as
read-only; small tables go through `cache_data`, which hands each caller its own copy.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from dmf_core.config import ModelConfig, SplitConfig, TrainConfig
from dmf_core.data import RELEASES, DataError, RatingData, dataset_fingerprint, load_dataset, parse_rating_scale
from dmf_core.data.ratings import ScaleRequest
from dmf_core.data.split import AreaSplit, split_areas
from dmf_core.runs.checkpoint import load as load_checkpoint
from dmf_core.runs.folder import METRICS_FILE, RunRecord, list_runs, read_run
from dmf_core.scoring.quantized import QuantizerComparison, compare_quantizers
from dmf_core.training.estimate import estimate_epoch_seconds
from studio import stats
from studio.analysis import RunAnalysis, cold_start_curve
from studio.registry import JobRegistry

from . import latent, state


@dataclass(frozen=True)
class Loaded:
    data: RatingData
    fingerprint: str


# ------------------------------------------------------------------------------------------------- data


UPLOAD_SCALE_FILE = "rating_scale.txt"  # beside an upload given an explicit scale (LOW:HIGH[:STEP]) on the Data page


def upload_scale(spec: str) -> ScaleRequest | None:
    """The scale recorded beside an uploaded file, so that it and every run trained on it load with it again."""
    beside = Path(spec).parent / UPLOAD_SCALE_FILE
    return parse_rating_scale(beside.read_text()) if Path(spec).is_file() and beside.is_file() else None


@st.cache_resource(max_entries=4, show_spinner="Loading ratings…")
def _load(key: str, spec: str, data_dir: str) -> Loaded:
    data = load_dataset(spec, data_dir=Path(data_dir), rating_scale=upload_scale(spec))
    return Loaded(data, dataset_fingerprint(data))


def load(ref: state.DatasetRef) -> Loaded:
    """The dataset behind `ref`; raises DataError (one line) when it cannot be read."""
    return _load(ref.key, ref.spec, str(state.data_dir()))


@st.cache_resource(max_entries=8, show_spinner=False)
def _split(key: str, spec: str, data_dir: str, split: tuple) -> AreaSplit:
    return split_areas(_load(key, spec, data_dir).data, SplitConfig(*split))


def split(ref: state.DatasetRef, config: SplitConfig) -> AreaSplit:
    return _split(ref.key, ref.spec, str(state.data_dir()), astuple(config))


@st.cache_resource(max_entries=16, show_spinner="Timing a few training steps…")
def _epoch_seconds(key: str, spec: str, data_dir: str, split_config: SplitConfig, model_config: ModelConfig,
                   train_config: TrainConfig) -> float:
    loaded = _load(key, spec, data_dir)
    return estimate_epoch_seconds(loaded.data, _split(key, spec, data_dir, astuple(split_config)), model_config,
                                  train_config)


def epoch_seconds(ref: state.DatasetRef, split_config: SplitConfig, model_config: ModelConfig,
                  train_config: TrainConfig) -> float:
    """An epoch's time with these settings, measured once per setting by a few real steps (dmf_core.training.estimate)."""
    return _epoch_seconds(ref.key, ref.spec, str(state.data_dir()), split_config, model_config, train_config)


@dataclass(frozen=True)
class Overview:
    rating_values: np.ndarray
    rating_counts: np.ndarray
    activity: np.ndarray
    popularity: np.ndarray


@st.cache_data(max_entries=8, show_spinner=False)
def _overview(key: str, spec: str, data_dir: str) -> Overview:
    data = _load(key, spec, data_dir).data
    values, counts = stats.rating_histogram(data)
    return Overview(values, counts, stats.user_activity(data), stats.item_popularity(data))


def overview(ref: state.DatasetRef) -> Overview:
    return _overview(ref.key, ref.spec, str(state.data_dir()))


@st.cache_data(max_entries=16, show_spinner=False)
def _window(key: str, spec: str, data_dir: str, how: str, seed: int) -> stats.MatrixWindow:
    return stats.sample_matrix(_load(key, spec, data_dir).data, how=how, seed=seed)


def window(ref: state.DatasetRef, how: str, seed: int) -> stats.MatrixWindow:
    return _window(ref.key, ref.spec, str(state.data_dir()), how, seed)


# ------------------------------------------------------------------------------------------------- jobs and runs

def registry() -> JobRegistry:
    """The process-wide job table (one per runs folder), shared by every browser session; it survives a cleared
    cache (see `JobRegistry.shared`)."""
    return JobRegistry.shared(state.runs_root())


def shutdown_jobs(timeout: float = 10.0) -> None:
    """Stop every job of every registry made in this process (test teardown)."""
    for registry in JobRegistry.all_shared():
        registry.shutdown(timeout)


@st.cache_resource(max_entries=256, show_spinner=False)
def _read_run(path: str, mtime_ns: int) -> RunRecord | None:
    return read_run(path)


def _cached_read(folder: Path) -> RunRecord | None:
    try:
        mtime = (folder / METRICS_FILE).stat().st_mtime_ns
    except OSError:
        return None  # in progress, or not a run
    return _read_run(str(folder), mtime)


def finished_runs() -> list[RunRecord]:
    """Runs on disk, newest first. Each metrics.json is parsed once per modification (histories can be long)."""
    return list_runs(state.runs_root(), read=_cached_read)


def find_run(run_id: str | None) -> RunRecord | None:
    return next((r for r in finished_runs() if r.run_id == run_id), None)


def dataset_of(record: RunRecord) -> state.DatasetRef:
    """Where a run's data comes from: recorded by the app, or inferred for CLI runs on demo or a MovieLens release
    loaded by name (ml-100k, ml-1m, ...)."""
    named = record.dataset == "demo" or record.dataset in RELEASES
    spec = record.meta.get("dataset_spec") or (record.dataset if named else None)
    if not spec:
        raise DataError(f"run {record.run_id} does not say where its data ({record.dataset}) came from; "
                        "load that dataset on the Data page and train again")
    return state.DatasetRef(spec, record.meta.get("dataset_label") or record.dataset)


@st.cache_resource(max_entries=3, show_spinner="Loading the trained model and scoring its test ratings…")
def _analysis(run_id: str, path: str, mtime_ns: int) -> RunAnalysis:
    record = read_run(path)
    if record is None:
        raise DataError(f"run {run_id} is incomplete or unreadable")
    ref = dataset_of(record)
    loaded = load(ref)
    expected = record.meta.get("dataset_fingerprint")
    if expected and expected != loaded.fingerprint:
        raise DataError(f"the data at {ref.spec} changed since run {run_id} was trained on it")
    return RunAnalysis.build(load_checkpoint(record.checkpoint_path), loaded.data)


def analysis(record: RunRecord) -> RunAnalysis:
    """The run's model rebuilt with its data and split; raises ValueError/OSError with a one-line message."""
    return _analysis(record.run_id, str(record.path), record.checkpoint_path.stat().st_mtime_ns)


@st.cache_resource(max_entries=3, show_spinner="Scoring the test ratings with each quantizer…")
def _quantizers(run_id: str, path: str, mtime_ns: int) -> QuantizerComparison:
    analysis = _analysis(run_id, path, mtime_ns)
    return compare_quantizers(analysis.predictor, analysis.data, analysis.split)


def quantizers(record: RunRecord) -> QuantizerComparison:
    """The run's learned b, rounding and b fitted on validation on its test ratings (`scoring.quantized`), once."""
    return _quantizers(record.run_id, str(record.path), record.checkpoint_path.stat().st_mtime_ns)


@st.cache_resource(max_entries=3, show_spinner="Projecting the latent vectors…")
def _latent_map(run_id: str, path: str, mtime_ns: int) -> latent.LatentMap:
    return latent.build_map(_analysis(run_id, path, mtime_ns))


def latent_map(record: RunRecord) -> latent.LatentMap:
    """The run's latent map, projected once per run (the New user page adds a point to it at every rating)."""
    return _latent_map(record.run_id, str(record.path), record.checkpoint_path.stat().st_mtime_ns)


@st.cache_data(max_entries=8, show_spinner="Computing the cold-start curve…")
def _cold_start(run_id: str, path: str, mtime_ns: int, seed: int) -> pd.DataFrame:
    return cold_start_curve(_analysis(run_id, path, mtime_ns), seed=seed)


def cold_start(record: RunRecord, seed: int = 0) -> pd.DataFrame:
    return _cold_start(record.run_id, str(record.path), record.checkpoint_path.stat().st_mtime_ns, seed)
