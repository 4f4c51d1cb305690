"""The paper's published numbers (Nguyen, Tsiligianni, Deligiannis, Tables 1 and 2, MovieLens-1M, random 75/5/20
splits, mean of 5 runs). Copied, never measured: the one place the app and the reproduction read them from."""

from __future__ import annotations

# Table 1: RMSE per area; None where the model cannot serve the area ("-" in the paper).
TABLE1: dict[str, dict[str, float | None]] = {
    "DMF": {"I": 0.850, "II": 0.883, "III": 0.864, "IV": 0.904},
    "U-AutoRec": {"I": 0.906, "II": 0.976, "III": None, "IV": None},
    "I-AutoRec": {"I": 0.841, "II": None, "III": 0.856, "IV": None},
    "Deep U-AutoRec": {"I": 0.889, "II": 0.969, "III": None, "IV": None},
}
# Table 2: discrete completion, RMSE / MAE.
TABLE2: dict[str, dict[str, float | None]] = {
    "DMF-D": {"rmse": 0.898, "mae": 0.625},
    "RankK": {"rmse": 0.944, "mae": 0.656},
    "OPTSPACE": {"rmse": 0.940, "mae": 0.665},
    "RDMC": {"rmse": 0.987, "mae": 0.670},
    "ODMC": {"rmse": 0.937, "mae": 0.658},
}
