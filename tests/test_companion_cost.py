"""The I-AutoRec companion's cost (dmf_core.training.estimate): counted before training, and a run it would not fit refused in
one line before anything trains. How close the estimate comes to a measured run: benchmarks/bench_companion_cost.py."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

import dmf_core.runs.folder as runs
import dmf_core.training.estimate as estimate
from dmf_core import DMF
from dmf_core.cli.main import main
from dmf_core.config import ModelConfig, SplitConfig, TrainConfig
from dmf_core.data.split import split_areas
from tests.conftest import REPO_ROOT
from tests.helpers import low_rank_ratings


@pytest.fixture()
def no_training(monkeypatch):
    """A run that got past its checks would train: here that fails the test."""
    def trained(*args, **kwargs):
        raise AssertionError("training started")
    monkeypatch.setattr(runs, "fit", trained)


def test_estimate_grows_with_users(tiny_data):
    split = split_areas(tiny_data)
    small = estimate.estimate_companion(tiny_data, split, estimate.pick_device("cpu"), time_it=False)
    more = low_rank_ratings(3 * tiny_data.n_users, tiny_data.n_items, 0.3)
    large = estimate.estimate_companion(more, split_areas(more), estimate.pick_device("cpu"), time_it=False)
    assert 0 < small.peak_bytes < large.peak_bytes
    assert estimate.companion_peak_bytes(10_000, 256) < estimate.companion_peak_bytes(20_000, 256)
    # ML-25M's users: a decoder and an encoder row of 500 floats each, with gradients, Adam and the best copy.
    assert estimate.companion_peak_bytes(162_000, 256) > 3 * 2**30


def test_short_memory_refused_in_one_line_before_training(tiny_data, monkeypatch, no_training, capsys, tmp_path,
                                                           one_thread):
    monkeypatch.setattr(estimate, "available_bytes", lambda device: 1024)
    with pytest.raises(ValueError) as refused:
        DMF(companion="i-autorec", epochs=1, quiet=True).fit(tiny_data)
    line = str(refused.value)
    assert "\n" not in line and "--companion none" in line and "of memory" in line
    assert main(["train", "--data", "demo:300x200x10000", "--companion", "i-autorec", "--epochs", "1", "--quiet",
                 "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: the I-AutoRec companion would need") and "\n" not in err
    assert not (tmp_path / "run" / "metrics.json").exists()
    # DMF alone, or DMF-D (which has no companion), is not held back by the companion's memory.
    assert estimate.check_companion_fits(tiny_data, split_areas(tiny_data), ModelConfig(companion="none"),
                                         TrainConfig()) is None


def test_epoch_over_the_budget_refused_before_training(tiny_data, monkeypatch, no_training):
    """The check every entry point runs before training (the CLI, DMF.fit and the app's registry: runs.check_run)."""
    slow = estimate.CompanionCost(users=tiny_data.n_users, peak_bytes=1, epoch_seconds=900.0, epochs=30)
    monkeypatch.setattr(estimate, "estimate_companion", lambda *args, **kwargs: slow)
    with pytest.raises(ValueError, match=r"900 s an epoch .* time budget of 60 s: train with --companion none"):
        runs.check_run(tiny_data, SplitConfig(), ModelConfig(companion="i-autorec"), TrainConfig(max_seconds=60))
    runs.check_run(tiny_data, SplitConfig(), ModelConfig(companion="i-autorec"), TrainConfig(max_seconds=1000))


def test_the_doc_s_commands_run_reduced_to_help():
    """docs/companion-cost.md's commands take 25 minutes as written (their numbers come from that run): here each
    one's --help runs, so a renamed script or flag fails."""
    doc = (REPO_ROOT / "docs" / "companion-cost.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", doc, re.S)
    commands = [line.split("#")[0].strip() for block in blocks for line in block.splitlines() if line.strip()]
    assert commands == ["python benchmarks/bench_companion_cost.py"]
    for command in commands:
        done = subprocess.run([sys.executable, *command.split()[1:], "--help"], cwd=REPO_ROOT, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0 and "--max-rss-gib" in done.stdout
