"""The Streamlit side of DMF Studio, shared by `app.py` and `pages/*.py`.

- `state`: session-state keys and the small records kept per browser session (dataset choice, split, jobs).
- `cache`: cached loaders. Cache keys are dataset ids, split settings and run ids, never big arrays.
- `ui`: page setup, the sidebar, run pickers, error display.
- `live`: the training panel that polls a background job twice a second.
- `train_form`: the Train page's hyperparameter form and presets.
- `latent`: the latent map (PCA of a run's latent vectors, its hover text and WebGL figure); no Streamlit inside.

Everything computed comes from `dmf_core`; this package only lays it out.
"""
