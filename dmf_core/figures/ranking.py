"""Figures of top-N for new users: each ranking's score on the `rank-eval` protocol (`dmf_core.ranking.protocol`),
with its 95% interval over the test users. The New user page draws the benchmark's report
(`benchmarks/results/ranking.json`); notebook 04 draws a run it made."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from ._style import AREA_COLORS, HARD_COLOR, UNIFORM_COLOR, _layout

METRIC_NAMES = {"ndcg": "NDCG@10", "recall": "Recall@10", "popularity_percentile": "popularity percentile of the ten",
                "coverage": "catalogue coverage@10"}


def ranking_methods(report: dict[str, Any], n: str = "10", metric: str = "ndcg",
                    highlight: tuple[str, ...] = ("DMF, by rating", "DMF relevance (recommend)")) -> go.Figure:
    """One bar per ranking (best at the top) for `rank_eval`'s report at context size `n`, with its 95% interval;
    the rankings in `highlight` (DMF's plain rating order and `recommend`'s relevance) in colour, most popular in
    dark grey, the others in light grey."""
    block = report["results"][str(n)]
    methods = sorted(block["methods"].items(), key=lambda kv: kv[1][metric]["mean"])
    names = [name for name, _ in methods]
    means = [scores[metric]["mean"] for _, scores in methods]
    colours = {highlight[0]: AREA_COLORS["II"], "most popular": HARD_COLOR}
    colours.update({name: AREA_COLORS["I"] for name in highlight[1:]})
    fig = go.Figure(go.Bar(
        y=names, x=means, orientation="h", marker_color=[colours.get(name, UNIFORM_COLOR) for name in names],
        error_x={"type": "data", "symmetric": False,
                 "array": [scores[metric]["high"] - scores[metric]["mean"] for _, scores in methods],
                 "arrayminus": [scores[metric]["mean"] - scores[metric]["low"] for _, scores in methods]},
        text=[f"{value:.3f}" for value in means], textposition="inside",
        hovertemplate="%{y}: %{x:.3f}<extra></extra>"))
    fig.update_xaxes(title=METRIC_NAMES.get(metric, metric), rangemode="tozero")
    title = (f"Top-10 for {block['users']:,} new users of {report['data']}, each giving {n} ratings: "
             f"{METRIC_NAMES.get(metric, metric)} (95% interval)")
    return _layout(fig, title, height=120 + 34 * len(names), showlegend=False)
