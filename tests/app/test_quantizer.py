"""Quantizer page: the λ animation's frames, the sandbox, and a DMF-D run's boundaries, replay and confusion."""

from __future__ import annotations

import json

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
    assert "Learned boundaries b vs uniform b̃" in titles
    replay = next(s for s in chart_specs(at) if s["layout"]["title"]["text"].startswith("Replay"))
    metrics = json.loads(next(with_runs.glob("*-dmf-d-*/metrics.json")).read_text())
    assert len(replay["frames"]) == metrics["epochs_run"] == 2
    assert [f["name"] for f in replay["frames"]] == ["1 (λ = 2)", "2 (λ = 4)"]
    confusion = next(s for s in chart_specs(at) if s["layout"]["title"]["text"].startswith("Confusion"))
    counts = confusion["data"][0]["customdata"]
    assert sum(map(sum, counts)) == metrics["discrete_overall"]["n"]
    labels = {m.label: m.value for m in at.metric}
    assert labels["discrete RMSE"] == f"{metrics['discrete_overall']['rmse']:.4f}"
    assert labels["λ reached"] == "4" and labels["quantizer epochs"] == "2"  # warm-up 0, two epochs, λ 2 → 4
    # The calibration curve: the mean true rating per bin of the continuous output, and a line per boundary on
    # where it moved (the learned b of the run, against the uniform midpoints).
    calibration = next(s for s in chart_specs(at) if s["layout"]["title"]["text"].startswith("Calibration"))
    curve = calibration["data"][1]
    assert len(curve["x"]) >= 3 and all(1 <= y <= 5 for y in curve["y"])
    assert sum(curve["customdata"]) <= metrics["discrete_overall"]["n"]
    moves = "\n".join(m.value for m in at.markdown)
    for v, b in enumerate(metrics["boundaries"], start=1):
        assert f"b{v} moved" in moves and f"(to {b:.3f})" in moves
