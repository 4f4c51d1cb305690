"""Home page: the explanation, the areas picture, and the one-click demo run to its metrics."""

from __future__ import annotations

import studio.presets
from dmf_core.config import ModelConfig, TrainConfig
from tests.app.helpers import chart_specs, texts, wait_until


def test_home_explains_dmf_and_draws_the_four_areas(open_page):
    at = open_page("home")
    assert at.title[0].value == "DMF Studio"
    assert "DMF" in texts(at) and "new users" in texts(at)
    assert len(at.latex) >= 2  # the cosine model and G_λ,b
    (areas,) = chart_specs(at)
    labels = " ".join(a["text"] for a in areas["layout"]["annotations"])
    assert all(f"<b>{area}</b>" in labels for area in ("I", "II", "III", "IV"))
    assert at.button(key="home-train").label == "Train a demo model"
    assert len(at.page_link) >= 6  # the sidebar's links and the "Next" list


def test_demo_button_trains_to_metrics_per_area(open_page, monkeypatch, isolated):
    # Same path as the real button, with an even smaller net so the test stays quick on a busy machine.
    monkeypatch.setattr(studio.presets, "quick_preset", lambda: (
        ModelConfig(hidden=(16, 8), dropout=0.1),
        TrainConfig(epochs=2, lr=1e-2, block_users=512, block_items=512, patience=0)))
    at = open_page("home")
    at.button(key="home-train").click().run()
    assert at.button(key="home-train").disabled  # no double start while it runs
    wait_until(at, lambda at: any("Finished" in s.value for s in at.success))
    table = at.dataframe[0].value
    assert list(table.index) == ["I", "II", "III", "IV"]
    assert table["RMSE"].between(0.3, 3.0).all() and (table["test ratings"] > 0).all()
    # Beside DMF's numbers, what averages alone get on the same test ratings.
    assert table["mean + biases RMSE"].between(0.5, 1.5).all()
    runs = list(isolated.iterdir())
    assert len(runs) == 1 and (runs[0] / "metrics.json").is_file() and (runs[0] / "checkpoint.pt").is_file()
    assert not at.button(key="home-train").disabled
