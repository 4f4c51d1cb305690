"""The figures: plotly figures built from plain data, the one set that the app's pages and the notebooks both draw
with (plotly only, no Streamlit, so `pip install .` gives them to a notebook), one module per thing drawn:

- `data`: the Data page and Home (histograms, the matrix, the areas' blocks);
- `training`: a run's curves and comparisons, DMF-D's λ schedule and boundaries, and each quantizer epoch against
  its start;
- `quantizer`: DMF-D's G_λ,b against Q_b (animated, and as small multiples), its replay and confusion matrix; the
  output per true star under the learned b, rounding and fitted b; their test scores; each boundary's effect;
- `areas`: per-area scores, errors and the cold-start curve;
- `ranking`: top-N for new users, each ranking's score on the `rank-eval` protocol;
- `sphere`: the unit sphere of a 3-d model, every user and movie a point on it (`sphere.figure`, `sphere.Points`);
- `_style`: the shared colours and layout.

`from dmf_core import figures; figures.name(...)` reaches every figure.
"""

from __future__ import annotations

from . import sphere
from ._style import (
    AREA_COLORS,
    AREA_NAMES,
    HARD_COLOR,
    HIGHLIGHT_COLOR,
    ITEM_SYMBOLS,
    LEARNED_COLOR,
    MAX_FRAMES,
    MIN_FRAMES,
    OTHER_COLOR,
    SEEN_ITEM_COLOR,
    SEEN_USER_COLOR,
    SMOOTH_COLOR,
    UNIFORM_COLOR,
    USER_SYMBOLS,
    YOU_COLOR,
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
from .ranking import ranking_methods
from .training import (
    area_curves,
    compare_areas,
    compare_runs,
    live_figures,
    quantizer_schedule,
    quantizer_selection,
    training_curves,
)

__all__ = [
    "AREA_COLORS",
    "AREA_NAMES",
    "HARD_COLOR",
    "HIGHLIGHT_COLOR",
    "ITEM_SYMBOLS",
    "LEARNED_COLOR",
    "MAX_FRAMES",
    "MIN_FRAMES",
    "OTHER_COLOR",
    "SEEN_ITEM_COLOR",
    "SEEN_USER_COLOR",
    "SMOOTH_COLOR",
    "UNIFORM_COLOR",
    "USER_SYMBOLS",
    "YOU_COLOR",
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
    "quantizer_selection",
    "quantizer_static",
    "ranking_methods",
    "rating_histogram",
    "sphere",
    "star_histogram",
    "training_curves",
]
