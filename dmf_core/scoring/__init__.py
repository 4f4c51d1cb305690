"""Scoring a trained model: predictions, the inputs it reads, and the error measures.

- `predict`: `Predictor`, every user's and item's latent factors embedded once, a rating a gather and a dot product;
- `context`: users and items the model never trained on, scored from their ratings (areas II-IV), no retraining;
- `observed`: the observed ratings a prediction reads (the rows and columns), with ids, titles and item popularity;
- `cold_start`: the cold-start curve, new users' error against how many of their ratings the model sees;
- `metrics`: RMSE, MAE and exact stars per area, for continuous, rounded and quantized predictions;
- `quantized`: learned b, rounding and b fitted on validation side by side on a run's test ratings, and what each
  boundary's move did to the stars on either side.

Imports the model layer (and `training.companion`, whose blend a prediction applies); never runs or the library.
"""
