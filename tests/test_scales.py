"""Rating scales besides whole stars 1..5: half stars (MovieLens 10M, 20M, 25M) and 1..10, read from the data or
given with --rating-scale, through loading, training DMF and DMF-D, rounding, quantizing, checkpoints and the
command line; and the MovieLens family's files (ML-10M's ratings.dat, ML-20M/25M's ratings.csv with movies.csv)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from dmf_core.cli import main as cli
from dmf_core.config import ModelConfig, QuantizerConfig, SplitConfig, TrainConfig
from dmf_core.data import DataError, dataset_fingerprint, load_dataset, load_upload, parse_rating_scale
from dmf_core.data import sources as data_module
from dmf_core.data.split import split_areas
from dmf_core.model.quantizer import Quantizer, rating_levels, uniform_boundaries
from dmf_core.runs import checkpoint as ckpt
from dmf_core.runs.folder import train_run
from dmf_core.scoring.metrics import evaluate, round_to_scale
from dmf_core.training.train import fit
from tests.conftest import make_zip

HALF = (0.5, 5.0, 0.5)
TEN = (1.0, 10.0, 1.0)
TINY = ModelConfig(hidden=(16, 8), dropout=0.1)
MOVIES_CSV = 'movieId,title,genres\n10,"American President, The (1995)",Comedy|Drama|Romance\n20,Heat (1995),Action\n'


def grid_ratings(scale: tuple[float, float, float], n_users: int = 60, n_items: int = 40, seed: int = 0) -> str:
    """`userId,movieId,rating,timestamp` lines (ML-25M's header and spelling) of a rank-2 model rounded to the
    scale's levels, sorted by user then movie."""
    low, high, step = scale
    rng = np.random.default_rng(seed)
    users, items = np.nonzero(rng.random((n_users, n_items)) < 0.5)
    score = (rng.normal(size=(n_users, 2))[users] * rng.normal(size=(n_items, 2))[items]).sum(1)
    levels = np.clip(np.rint((score + 2) / 4 * (high - low) / step), 0, round((high - low) / step))
    rows = [f"{u + 1},{10 * (i + 1)},{low + k * step:.1f},97830{u:04d}" for u, i, k in zip(users, items, levels, strict=True)]
    return "userId,movieId,rating,timestamp\n" + "\n".join(rows) + "\n"


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def quick(model: str = "dmf", epochs: int = 2) -> TrainConfig:
    return TrainConfig(model=model, epochs=epochs, lr=1e-2, block_users=32, block_items=32, patience=0, device="cpu",
                       quantizer=QuantizerConfig(lambda_start=2.0, lambda_growth=2.0, warmup_epochs=0))


# --- reading the scale ------------------------------------------------------------------------------------------


def test_an_ml25m_folder_reads_half_stars_titles_and_genres(tmp_path):
    folder = write(tmp_path / "ml-25m", {"ratings.csv": grid_ratings(HALF), "movies.csv": MOVIES_CSV})
    data = load_dataset(folder)
    assert (data.rating_scale, data.rating_step) == ((0.5, 5.0), 0.5) and data.name == "ml-25m"
    assert set(np.unique(data.ratings)) == {0.5 + 0.5 * k for k in range(10)}
    assert data.title(0) == "American President, The (1995)" and data.item_genres[1] == "Action"
    assert data.summary()["rating_scale"] == "0.5..5 in steps of 0.5"


def test_a_one_to_ten_table_reads_its_scale(tmp_path):
    data = load_upload("scores.csv", grid_ratings(TEN).encode())
    assert (data.rating_scale, data.rating_step, data.name) == ((1.0, 10.0), 1.0, "scores")
    odd = load_upload("odd.csv", b"user,item,rating\n1,1,20\n1,2,60\n2,1,100\n")  # no known scale: its own
    assert (odd.rating_scale, odd.rating_step) == ((20.0, 100.0), 1.0)


def test_whole_star_data_keeps_its_scale_and_fingerprint(tiny_data):
    assert (tiny_data.rating_scale, tiny_data.rating_step) == ((1.0, 5.0), 1.0)
    partial = load_upload("few.csv", b"user,item,rating\n1,1,2\n1,2,4\n2,1,3\n")  # 2..4 stars: still 1..5
    assert (partial.rating_scale, partial.rating_step) == ((1.0, 5.0), 1.0)


def test_a_given_scale_wins_and_is_checked(tmp_path):
    path = write(tmp_path, {"half.csv": grid_ratings(HALF)}) / "half.csv"
    wide = load_dataset(path, rating_scale=parse_rating_scale("0:10"))  # the step still comes from the data
    assert (wide.rating_scale, wide.rating_step) == ((0.0, 10.0), 0.5)
    assert dataset_fingerprint(wide) != dataset_fingerprint(load_dataset(path))
    with pytest.raises(DataError, match=r"half\.csv: line \d+: rating \d\.5 is not on the scale 1\.\.5 in steps of 1"):
        load_dataset(path, rating_scale=(1.0, 5.0, 1.0))
    with pytest.raises(DataError, match=r"line \d+: rating 0\.5 is outside the scale 1\.\.5"):
        load_dataset(path, rating_scale=(1.0, 5.0))
    assert parse_rating_scale("0.5:5:0.5") == HALF and parse_rating_scale(" 1:10 ") == (1.0, 10.0)
    for bad in ("5:1", "1:5:0.3", "1:5:0", "one:five", "1", "1:2:3:4"):
        with pytest.raises(ValueError):
            parse_rating_scale(bad)


# --- the MovieLens family ---------------------------------------------------------------------------------------


def test_ml10m_ratings_dat_with_half_stars_from_a_folder_or_its_zip(tmp_path):
    ratings = "1::10::3.5::978300760\n1::20::5::978302109\n2::10::0.5::978301968\n2::20::4::978300275\n"
    movies = "10::Toy Story (1995)::Animation|Children's\n20::Heat (1995)::Action\n"
    folder = write(tmp_path / "ml-10m" / "ml-10M100K", {"ratings.dat": ratings, "movies.dat": movies})
    data = load_dataset(folder.parent)
    assert (data.name, data.rating_scale, data.rating_step) == ("ml-10m", (0.5, 5.0), 0.5)
    assert data.item_titles == ["Toy Story (1995)", "Heat (1995)"] and data.item_genres[1] == "Action"
    archive = tmp_path / "ml-10m.zip"
    archive.write_bytes(make_zip({"ml-10M100K/ratings.dat": ratings.encode(), "ml-10M100K/movies.dat": movies.encode()}))
    zipped = load_dataset(archive)
    assert zipped.name == "ml-10m" and dataset_fingerprint(zipped) == dataset_fingerprint(data)
    with pytest.raises(DataError, match="line 2: rating 5.5 is outside the scale 0.5..5"):
        load_upload("ratings.dat", b"1::10::3.5::1\n1::20::5.5::2\n")  # a `::` file is on whole or half stars


def test_release_names_resolve_like_ml1m(tmp_path, monkeypatch):
    monkeypatch.setattr(data_module, "SHARED_DATA_DIR", tmp_path / "no-shared")
    write(tmp_path / "data" / "ml-20m", {"ratings.csv": grid_ratings(HALF), "movies.csv": MOVIES_CSV})
    assert load_dataset("ml-20m", data_dir=tmp_path / "data").name == "ml-20m"
    archive = tmp_path / "elsewhere" / "ml-25m.zip"
    archive.parent.mkdir()
    archive.write_bytes(make_zip({"ml-25m/ratings.csv": grid_ratings(HALF).encode()}))
    monkeypatch.setenv("DMF_ML25M_DIR", str(archive))
    assert load_dataset("ml-25m", data_dir=tmp_path / "data").rating_step == 0.5
    monkeypatch.delenv("DMF_ML10M_DIR", raising=False)
    with pytest.raises(DataError, match=r"MovieLens-10M not found: .*download --dataset ml-10m.*DMF_ML10M_DIR"):
        load_dataset("ml-10m", data_dir=tmp_path / "data")


# --- rounding, levels and the quantizer -------------------------------------------------------------------------


def test_rounding_levels_and_quantizer_follow_the_step():
    pred = np.array([0.1, 0.74, 0.76, 2.26, 4.9, 7.0], dtype=np.float32)
    assert round_to_scale(pred, (0.5, 5.0), 0.5).tolist() == [0.5, 0.5, 1.0, 2.5, 5.0, 5.0]
    assert round_to_scale(np.array([0.2, 5.4, 9.6, 12.0]), (1.0, 10.0), 1.0).tolist() == [1.0, 5.0, 10.0, 10.0]
    assert rating_levels((0.5, 5.0), 0.5) == [0.5 * k for k in range(1, 11)]
    assert uniform_boundaries((0.5, 5.0), 0.5) == [0.75 + 0.5 * k for k in range(9)]
    quantizer = Quantizer((0.5, 5.0), step=0.5)
    assert quantizer.uniform.tolist() == pytest.approx(uniform_boundaries((0.5, 5.0), 0.5))
    x = torch.linspace(0.0, 5.5, 111) + 0.013  # off the boundaries, where σ(0) = ½
    assert set(quantizer.hard(x).tolist()) == set(rating_levels((0.5, 5.0), 0.5))
    assert torch.allclose(quantizer(x, 1e30), quantizer.hard(x))
    assert quantizer.hard(torch.tensor([2.6, 2.8])).tolist() == [2.5, 3.0]  # b̃ = 2.75 between 2.5 and 3
    ten = Quantizer((1.0, 10.0), step=1.0)
    assert len(ten.boundaries) == 9 and set(ten.hard(torch.linspace(0, 11, 50)).tolist()) == set(range(1, 11))


@pytest.mark.parametrize("scale", [HALF, TEN], ids=["half-stars", "one-to-ten"])
def test_dmf_and_dmf_d_train_and_score_on_the_scale(scale):
    data = load_upload("r.csv", grid_ratings(scale).encode())
    levels = rating_levels(data.rating_scale, data.rating_step)
    split = split_areas(data, SplitConfig(new_user_frac=0.1, new_item_frac=0.1))
    for model in ("dmf", "dmf-d"):
        result = fit(data, split, TINY, quick(model))
        scores = evaluate(result.model, data, split, result.inputs)
        assert np.isfinite(scores["overall"]["rmse"]) and np.isfinite(scores["rounded_overall"]["rmse"])
        assert scores["overall"]["rmse"] < (scale[1] - scale[0])  # on the scale's units
        assert all(np.isfinite(h["train_loss"]) and np.isfinite(h["val_rmse"]) for h in result.history)
        if model == "dmf-d":
            assert np.isfinite(scores["discrete_overall"]["rmse"])
            assert len(result.history[-1]["boundaries"]) == len(levels) - 1
            hard = result.model.quantizer.hard(torch.linspace(scale[0] - 1, scale[1] + 1, 200))
            assert set(hard.tolist()) <= set(levels)


def test_checkpoints_store_the_step_and_old_ones_load_as_whole_stars(tmp_path, tiny_data):
    data = load_upload("half.csv", grid_ratings(HALF).encode())
    train_run(data, SplitConfig(), TINY, quick("dmf-d", epochs=1), tmp_path / "half")
    stored = ckpt.load(tmp_path / "half" / "checkpoint.pt")
    assert stored["dataset"]["rating_step"] == 0.5 and ckpt.stored_scale(stored) == HALF
    model = ckpt.restore_model(stored)
    assert model.rating_step == 0.5 and model.quantizer.step == 0.5 and len(model.quantizer.boundaries) == 9

    train_run(tiny_data, SplitConfig(), TINY, quick("dmf-d", epochs=1), tmp_path / "old")
    old = ckpt.load(tmp_path / "old" / "checkpoint.pt")
    del old["dataset"]["rating_step"]  # as written before steps were stored
    assert ckpt.stored_scale(old) == (1.0, 5.0)
    restored = ckpt.restore_model(old)
    assert restored.rating_step == 1.0 and restored.quantizer.uniform.tolist() == [1.5, 2.5, 3.5, 4.5]
    ckpt.check_matches(old, tiny_data)  # whole-star fingerprints did not change


# --- the command line -------------------------------------------------------------------------------------------


def test_the_rating_scale_flag_through_info_train_and_evaluate(tmp_path, capsys):
    path = write(tmp_path, {"half.csv": grid_ratings(HALF)}) / "half.csv"
    assert cli.main(["info", "--data", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["dataset"]["rating_scale"] == "0.5..5 in steps of 0.5"
    assert cli.main(["info", "--data", str(path), "--rating-scale", "0:10"]) == 0
    assert json.loads(capsys.readouterr().out)["dataset"]["rating_scale"] == "0..10 in steps of 0.5"
    out = tmp_path / "run"
    assert cli.main(["train", "--data", str(path), "--rating-scale", "0:10:0.5", "--model", "dmf-d", "--epochs",
                     "1", "--hidden", "16,8", "--block-users", "32", "--block-items", "32", "--device", "cpu",
                     "--quiet", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics["boundaries"]) == 20  # between the 21 levels 0, 0.5, ..., 10
    capsys.readouterr()
    # evaluate loads the data with the checkpoint's scale: read from the data, 0.5..5, the fingerprint would differ
    assert cli.main(["evaluate", str(out / "checkpoint.pt"), "--data", str(path), "--device", "cpu"]) == 0
    assert cli.main(["info", "--data", str(path), "--rating-scale", "1:5:1"]) == 2
    assert "is not on the scale 1..5 in steps of 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["info", "--rating-scale", "5:1"])
