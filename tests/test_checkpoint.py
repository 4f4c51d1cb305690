import numpy as np
import pytest
import torch

from dmf_core.config import ModelConfig, SplitConfig, TrainConfig
from dmf_core.data.split import TEST, split_areas
from dmf_core.model.inputs import MatrixInputs
from dmf_core.runs import checkpoint as ckpt
from dmf_core.runs import folder as runs
from dmf_core.runs.folder import evaluate_checkpoint, resume_run, train_run
from dmf_core.scoring.predict import Predictor
from tests.helpers import low_rank_ratings

SMALL = ModelConfig(hidden=(32, 16))
QUICK = TrainConfig(epochs=2, block_users=64, block_items=64, device="cpu", patience=0)


@pytest.mark.parametrize("kind", ["dmf", "dmf-d"])
def test_checkpoint_round_trip_gives_identical_predictions(tiny_data, tmp_path, kind):
    config = TrainConfig(**{**QUICK.__dict__, "model": kind})
    metrics, result = train_run(tiny_data, SplitConfig(), SMALL, config, tmp_path)
    loaded = ckpt.load(tmp_path / "checkpoint.pt")  # weights_only=True inside
    model = ckpt.restore_model(loaded)
    split = split_areas(tiny_data, SplitConfig())
    inputs = MatrixInputs.from_split(tiny_data, split)
    users, items = tiny_data.users[:200], tiny_data.items[:200]
    before = Predictor.build(result.model, result.inputs).continuous(users, items)
    after = Predictor.build(model, inputs).continuous(users, items)
    assert np.allclose(before, after, atol=1e-6)
    assert loaded["history"] == metrics["history"]
    again = evaluate_checkpoint(loaded, tiny_data, "cpu")
    assert again["areas"]["I"]["rmse"] == pytest.approx(metrics["areas"]["I"]["rmse"], rel=1e-6)


def test_a_finished_run_is_not_resumed(tiny_data, tmp_path):
    """A finished run's checkpoint holds its selected weights, not its last epoch's: going on from it would pair
    them with the last epoch's optimizer state, so it is refused in one line."""
    train_run(tiny_data, SplitConfig(), SMALL, QUICK, tmp_path)
    with pytest.raises(ckpt.CheckpointError, match="this run finished") as refused:
        resume_run(ckpt.load(tmp_path / "checkpoint.pt"), tiny_data, tmp_path / "more", epochs=4)
    assert "\n" not in str(refused.value)
    assert not (tmp_path / "more").exists()


class Crash(Exception):
    """Stands for a killed process: raised from a callback, it ends the run where a kill would."""


@pytest.mark.parametrize(("kind", "crash_after"), [("dmf", 3), ("dmf-d", 2), ("dmf-d", 5)])
def test_a_resumed_run_predicts_exactly_what_the_uninterrupted_run_predicts(tiny_data, tmp_path, one_thread, kind,
                                                                             crash_after, monkeypatch):
    """Crashed after an epoch (for DMF-D inside the warm-up, then inside the quantizer phase) and resumed from the
    checkpoint it left, a run ends with the same selection, history and predictions, to the last bit."""
    monkeypatch.setattr(runs, "CHECKPOINT_SHARE", 1e9)  # a checkpoint after every epoch, however cheap the epochs
    config = TrainConfig(**{**QUICK.__dict__, "model": kind, "epochs": 8, "patience": 3, "lr": 2e-2})
    split_config = SplitConfig(new_user_frac=0.1, new_item_frac=0.1)
    whole, whole_result = train_run(tiny_data, split_config, SMALL, config, tmp_path / "whole")

    def crash(record):
        if record["epoch"] == crash_after + 1:
            raise Crash

    with pytest.raises(Crash):
        train_run(tiny_data, split_config, SMALL, config, tmp_path / "crashed", on_epoch=crash)
    checkpoint = ckpt.load(tmp_path / "crashed" / "checkpoint.pt")
    assert checkpoint["in_progress"] and len(checkpoint["history"]) == crash_after
    resumed, resumed_result = resume_run(checkpoint, tiny_data, tmp_path / "crashed")

    assert resumed["best_epoch"] == whole["best_epoch"] and resumed["val_rmse"] == whole["val_rmse"]
    drop = ("elapsed", "epoch_seconds", "eta_seconds")
    assert [{k: v for k, v in h.items() if k not in drop} for h in resumed["history"]] == \
        [{k: v for k, v in h.items() if k not in drop} for h in whole["history"]]
    test = split_areas(tiny_data, split_config).role == TEST
    users, items = tiny_data.users[test], tiny_data.items[test]
    assert np.array_equal(resumed_result.predictor.continuous(users, items),
                          whole_result.predictor.continuous(users, items))
    assert resumed.get("quantizer") == whole.get("quantizer")


def test_corrupt_and_foreign_files_give_one_line_errors(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ckpt.CheckpointError, match="bad.pt"):
        ckpt.load(bad)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(2)}, foreign)
    with pytest.raises(ckpt.CheckpointError, match="not a DMF checkpoint"):
        ckpt.load(foreign)
    with pytest.raises(ckpt.CheckpointError, match="no such"):
        ckpt.load(tmp_path / "missing.pt")


def test_checkpoint_rejects_data_of_another_shape(tiny_data, tmp_path):
    train_run(tiny_data, SplitConfig(), SMALL, QUICK, tmp_path)
    other = low_rank_ratings(40, 30, 0.3, seed=1)
    with pytest.raises(ckpt.CheckpointError, match="trained on"):
        evaluate_checkpoint(ckpt.load(tmp_path / "checkpoint.pt"), other, "cpu")


def test_checkpoints_of_a_run_in_progress_cost_at_most_their_share_of_training(tiny_data, tmp_path, monkeypatch):
    """Every epoch is checkpointed while writing is cheap against the training time; when it is not, only as often as
    CHECKPOINT_SHARE of the training time allows. Both ends are forced here with extreme shares."""
    import dmf_core.runs.folder as runs

    saved: list[bool] = []
    real_save = ckpt.save
    monkeypatch.setattr(ckpt, "save", lambda checkpoint, path: saved.append(checkpoint["in_progress"])
                        or real_save(checkpoint, path))
    config = TrainConfig(epochs=3, patience=0, lr=1e-2, block_users=64, block_items=64)
    model = ModelConfig(hidden=(16, 8), dropout=0.1)
    monkeypatch.setattr(runs, "CHECKPOINT_SHARE", 1e9)
    train_run(tiny_data, SplitConfig(), model, config, tmp_path / "cheap")
    assert saved == [True, True, True, False]  # every epoch, then the final (selected) checkpoint

    saved.clear()
    monkeypatch.setattr(runs, "CHECKPOINT_SHARE", 1e-9)
    train_run(tiny_data, SplitConfig(), model, config, tmp_path / "dear")
    assert saved == [True, False]
    assert ckpt.load(tmp_path / "dear" / "checkpoint.pt")["in_progress"] is False
