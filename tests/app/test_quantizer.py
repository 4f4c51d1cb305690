"""Quantizer page: the λ animation's frames, the sandbox, and a DMF-D run's boundaries, replay and confusion."""

from __future__ import annotations

import json

import pytest

from dmf_core.data.split import TEST, split_areas
from dmf_core.runs.checkpoint import configs
from dmf_core.runs.checkpoint import load as load_checkpoint
from tests.app.conftest import small_demo
from tests.app.helpers import chart_specs, texts


def chart(at, key: str) -> dict:
    return next(json.loads(e.proto.spec) for e in at.get("plotly_chart") if e.proto.id and key in e.proto.id)


def animation(at) -> dict:
    return next(s for s in chart_specs(at) if "as λ grows" in s["layout"]["title"]["text"])


def test_without_runs_the_animation_and_sandbox_work(open_page):
    at = open_page("quantizer")
    assert "No DMF-D run selected" in texts(at)
    spec = animation(at)
    assert len(spec["frames"]) == 100
    assert spec["layout"]["xaxis"]["autorange"] is False and spec["layout"]["yaxis"]["autorange"] is False
    assert [b["label"] for b in spec["layout"]["updatemenus"][0]["buttons"]] == ["Play", "Pause"]
    assert spec["frames"][0]["name"] == "0.3" and spec["frames"][-1]["name"] == "300"
    assert len(spec["layout"]["sliders"][0]["steps"]) == 100

    at.slider(key="quant-frames").set_value(50).run()
    assert len(animation(at)["frames"]) == 50
    at.slider(key="quant-frames").set_value(200).run()
    assert len(animation(at)["frames"]) == 200

    at.slider(key="quant-b2").set_value(2.8).run()
    assert "Boundaries: sandbox b" in texts(at)
    boundary_x = [x for x in animation(at)["data"][3]["x"] if x is not None]
    assert 2.8 in boundary_x
    at.select_slider(key="quant-lambda").set_value(1000.0).run()
    sandbox = next(s for s in chart_specs(at) if s["layout"]["title"]["text"] == "Quantizer sandbox")
    assert "λ = 1000" in sandbox["data"][1]["name"]
    at.button(key="quant-reset").click().run()
    assert at.slider(key="quant-b2").value == 2.5


def test_a_dmfd_run_shows_learned_b_replay_and_confusion(open_page, with_runs):
    at = open_page("quantizer")
    assert "tiny dmf-d" in at.selectbox(key="quant-run").format_func(at.selectbox(key="quant-run").value)
    assert not at.error
    titles = [s["layout"]["title"]["text"] for s in chart_specs(at)]
    assert "What each boundary's move did" in titles and "+0.000 vs round" not in texts(at)
    replay = next(s for s in chart_specs(at) if s["layout"]["title"]["text"].startswith("Replay"))
    metrics = json.loads(next(with_runs.glob("*-dmf-d-*/metrics.json")).read_text())
    assert len(replay["frames"]) == metrics["epochs_run"] - 1 == 2  # the quantizer's epochs, after one of warm-up
    assert [f["name"] for f in replay["frames"]] == ["2 (λ = 2)", "3 (λ = 4)"]
    confusion = next(s for s in chart_specs(at) if s["layout"]["title"]["text"].startswith("Confusion"))
    counts = confusion["data"][0]["customdata"]
    assert sum(map(sum, counts)) == metrics["discrete_overall"]["n"]
    labels = {m.label: m.value for m in at.metric}
    assert labels["test ratings"] == f"{metrics['discrete_overall']['n']:,}"
    assert labels["λ reached"] == "4" and labels["quantizer epochs"] == "2"  # warm-up 1, two epochs, λ 2 → 4
    # The calibration curve: the mean true rating per bin of the continuous output, and a line per boundary on
    # where it moved (the learned b of the run, against the uniform midpoints).
    calibration = next(s for s in chart_specs(at) if s["layout"]["title"]["text"].startswith("Calibration"))
    curve = calibration["data"][1]
    assert len(curve["x"]) >= 3 and all(1 <= y <= 5 for y in curve["y"])
    assert sum(curve["customdata"]) <= metrics["discrete_overall"]["n"]
    moves = "\n".join(m.value for m in at.markdown)
    for v, b in enumerate(metrics["boundaries"], start=1):
        assert f"b{v} moved" in moves and f"(to {b:.3f})" in moves


def test_the_side_by_side_figures_are_the_runs_own(open_page, with_runs):
    """The histogram's learned b are the checkpoint's, its bars count that run's test ratings per true star, and
    the learned and rounding scores are the ones its metrics.json recorded for the same test ratings."""
    at = open_page("quantizer")
    run = next(with_runs.glob("*-dmf-d-*"))
    metrics = json.loads((run / "metrics.json").read_text())
    checkpoint = load_checkpoint(run / "checkpoint.pt")
    learned = checkpoint["state_dict"]["quantizer.boundaries"].tolist()
    _, _, split_config = configs(checkpoint)
    data = small_demo()
    true = data.ratings[split_areas(data, split_config).role == TEST]

    histogram = chart(at, "quant-histogram")
    lines = {t["name"]: [x for x in t["x"] if x is not None][::2] for t in histogram["data"] if t["type"] == "scatter"}
    assert lines["learned b"] == pytest.approx(learned, abs=1e-6)
    assert lines["learned b"] == pytest.approx(metrics["boundaries"], abs=1e-6)
    assert lines["rounding b̃"] == [1.5, 2.5, 3.5, 4.5]
    bars = {t["name"]: sum(t["y"]) for t in histogram["data"] if t["type"] == "bar"}
    assert bars == {f"true {s}★": int((true == s).sum()) for s in (1, 2, 3, 4, 5)}
    assert sum(bars.values()) == metrics["discrete_overall"]["n"]

    scores = chart(at, "quant-scores")
    dots = {t["name"]: dict(zip(t["y"], t["x"], strict=True)) for t in scores["data"] if t["mode"] == "markers+text"}
    rmse, exact = dots["rmse"], dots["exact_stars"]
    assert rmse["learned b"] == pytest.approx(metrics["discrete_overall"]["rmse"])
    assert rmse["rounding (uniform b̃)"] == pytest.approx(metrics["rounded_overall"]["rmse"])
    assert rmse["global mean + biases, rounded"] == pytest.approx(metrics["baseline"]["rounded_overall"]["rmse"])

    effects = chart(at, "quant-effects")
    moved = effects["data"][0]["y"]
    assert moved == pytest.approx([b - u for b, u in zip(learned, [1.5, 2.5, 3.5, 4.5], strict=True)], abs=1e-6)
    right, wrong = sum(effects["data"][1]["y"]), sum(effects["data"][2]["y"])
    n = metrics["discrete_overall"]["n"]
    assert right - wrong == round((exact["learned b"] - exact["rounding (uniform b̃)"]) * n)

    # Each quantizer epoch against the start: the run's own recorded differences, its margin's reach, its kept epoch.
    selection = chart(at, "quant-selection")
    recorded = [h for h in metrics["history"] if h.get("val_rmse_vs_start") is not None]
    dots = selection["data"][0]
    assert recorded and dots["x"] == [h["epoch"] for h in recorded]
    assert dots["y"] == pytest.approx([h["val_rmse_vs_start"] for h in recorded])
    margin = metrics["quantizer"]["select_margin"]
    assert dots["error_y"]["array"] == pytest.approx([margin * h["val_rmse_vs_start_se"] for h in recorded])
    assert not metrics["quantizer"]["selected_start"] and selection["data"][1]["x"] == [metrics["best_epoch"]]
