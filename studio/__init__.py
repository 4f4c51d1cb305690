"""The Streamlit side of DMF Studio, shared by `app.py` and `pages/*.py`: what only the app needs.

- `state`: session-state keys and the small records kept per browser session (dataset choice, split, jobs).
- `cache`: cached loaders. Cache keys are dataset ids, split settings and run ids, never big arrays.
- `ui`: page setup, the sidebar, run pickers, error display.
- `live`: the training panel that polls a background job twice a second.
- `train_form`: the Train page's hyperparameter form; `presets`: its presets.
- `jobs`, `training_job`, `reproduction_job`, `registry`: the one background-job mechanism.
- `analysis`, `stats`, `plots`: what the pages compute from a run or a dataset, and every figure.
- `latent`: the latent map (PCA of a run's latent vectors, its hover text and WebGL figure); no Streamlit inside.

Training, scoring and data loading come from `dmf_core`; this package lays them out.
"""
