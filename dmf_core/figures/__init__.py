"""The figures: plotly figures built from plain data, the one set that the app's pages and the notebooks both draw
with (plotly only, no Streamlit, so `pip install .` gives them to a notebook), one module per thing drawn:

- `data`: the Data page and Home (histograms, the matrix, the areas' blocks);
- `training`: a run's curves and comparisons, DMF-D's λ schedule and boundaries;
- `quantizer`: DMF-D's G_λ,b against Q_b (animated, and as small multiples), its replay and confusion matrix; the
  output per true star under the learned b, rounding and fitted b; their test scores; each boundary's effect;
- `areas`: per-area scores, errors and the cold-start curve;
- `_style`: the shared colours and layout.

`from dmf_core import figures; figures.name(...)` reaches every figure.
"""

from __future__ import annotations

from ._style import (
    AREA_COLORS,
    AREA_NAMES,
    HARD_COLOR,
    LEARNED_COLOR,
    MAX_FRAMES,
    MIN_FRAMES,
    SMOOTH_COLOR,
    UNIFORM_COLOR,
)
from .areas import area_scores, cold_start, error_distributions
from .data import area_blocks, count_distribution, matrix_heatmap, rating_histogram
from .quantizer import (
    boundary_effects,
    calibration,
    confusion_heatmap,
    lambda_frames,
    quantizer_animation,
    quantizer_curves,
    quantizer_replay,
    quantizer_scores,
    quantizer_small_multiples,
    quantizer_static,
    star_histogram,
)
from .training import area_curves, compare_areas, compare_runs, live_figures, quantizer_schedule, training_curves

__all__ = [
    "AREA_COLORS",
    "AREA_NAMES",
    "HARD_COLOR",
    "LEARNED_COLOR",
    "MAX_FRAMES",
    "MIN_FRAMES",
    "SMOOTH_COLOR",
    "UNIFORM_COLOR",
    "area_blocks",
    "area_curves",
    "area_scores",
    "boundary_effects",
    "calibration",
    "cold_start",
    "compare_areas",
    "compare_runs",
    "confusion_heatmap",
    "count_distribution",
    "error_distributions",
    "lambda_frames",
    "live_figures",
    "matrix_heatmap",
    "quantizer_animation",
    "quantizer_curves",
    "quantizer_replay",
    "quantizer_scores",
    "quantizer_small_multiples",
    "quantizer_schedule",
    "quantizer_static",
    "rating_histogram",
    "star_histogram",
    "training_curves",
]
