"""The Quantizer page's tables and sentences from a run's `QuantizerComparison` (dmf_core.scoring.quantized): the
three ways to stars side by side, and one line per boundary on what its move did. Formatting only: every number is
the comparison's."""

from __future__ import annotations

import pandas as pd

from dmf_core.scoring.quantized import FITTED, LEARNED, ROUNDING, QuantizerComparison


def score_table(comparison: QuantizerComparison) -> pd.DataFrame:
    """One row per quantizer: test RMSE, MAE, exact stars, RMSE against rounding's with the standard error of that
    paired difference, and the ratings scored, with the boundaries it used."""
    bounds = {LEARNED: comparison.learned, ROUNDING: comparison.uniform, FITTED: comparison.fitted}
    table = comparison.table
    return pd.DataFrame({
        "way to stars": table.index,
        "test RMSE": table["rmse"].round(4).to_numpy(),
        "test MAE": table["mae"].round(4).to_numpy(),
        "exact stars": [f"{v:.1%}" for v in table["exact_stars"]],
        "test RMSE − rounding (± SE)": [
            "–" if pd.isna(d) else "0 (the reference)" if name == ROUNDING else f"{d:+.4f} ± {se:.4f}"
            for name, d, se in zip(table.index, table["rmse_minus_rounding"], table["rmse_minus_rounding_se"],
                                   strict=True)],
        "test ratings": table["n"].to_numpy(),
        "boundaries": [", ".join(f"{b:.3f}" for b in bounds[name]) if bounds.get(name) is not None else "–"
                       for name in table.index],
    })


def effect_lines(comparison: QuantizerComparison) -> list[str]:
    """One sentence per boundary: how far it moved from rounding's midpoint and what that did on the test ratings."""
    lines = []
    for row in comparison.effects.itertuples():
        if row.changed == 0:
            lines.append(f"**{row.boundary}** ({row.between}★) moved {row.moved:+.3f} to {row.position:.3f}: "
                         "no test rating changed star.")
            continue
        lines.append(
            f"**{row.boundary}** ({row.between}★) moved {row.moved:+.3f} to {row.position:.3f}: "
            f"{row.changed:,} test ratings went from {row.from_star:g}★ to {row.to_star:g}★; "
            f"{row.became_right:,} of them became right, {row.became_wrong:,} became wrong (net {row.net_right:+,}).")
    return lines
