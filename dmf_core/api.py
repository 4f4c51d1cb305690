"""The library: `DMF`, an estimator a notebook can call, over the same machinery as `python -m dmf_core train`.

    model = DMF(max_seconds=60, seed=0)          # every `train` flag as a keyword; split="areas": train's experiment
    model.fit(ratings)                           # a DataFrame (user, item, rating), a RatingData or a --data spec:
                                                 # trains on all of it but a validation share (early stopping)
    model.predict(pairs)                         # the data's own ids -> numpy array of ratings
    model.predict(pairs, context=known)          # users and/or items fit never saw, from their ratings; no retraining
    model.recommend({item: rating}, k=10)        # one new person -> DataFrame item, score (its order), predicted_rating,
                                                 # n_ratings (+ title): relevance (rated × liked); by="rating"
    model.recommend(user=some_user_id)           # a known user's top-N, what they rated left out
    model.save(path); DMF.load(path)             # the checkpoint format of `train`; opens `train`'s and the app's

Bad input is a one-line ValueError naming the problem.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .data import RatingData, from_triples, load_dataset
from .data.frames import PAIR_COLUMNS, RATING_COLUMNS, columns_of, first_repeat, lookup
from .data.split import OBSERVED, split_areas
from .device import pick_device
from .flags import FLAGS, SPLIT_FLAGS, configs_from_flags, flags_from_configs, scale_request, split_flags, split_name
from .model.network import DMFNet
from .progress import library_bar
from .ranking.rankers import RANKINGS, rated_matrix, recommended
from .runs import checkpoint as ckpt
from .runs.folder import CHECKPOINT_FILE, final_checkpoint, refuse_interrupted, train_run
from .scoring.context import check_ratings, extended_predictor, rows_of, score_new_user
from .scoring.metrics import round_to_scale
from .scoring.observed import Observed, area_frame, data_reference, library_state
from .scoring.predict import Predictor

# The library's settings beyond the train command's flags, with their defaults: `out`, a folder to write the run to
# (as `train --out`), `verbose`, the progress bar (`progress.library_bar`), and `split`, the split flags' defaults:
# "fit" (`config.FIT_SPLIT`: train on every rating but the validation share, as an estimator does) or "areas" (the
# paper's area experiment, `train`'s default); new_users, new_items, val_frac and test_frac given override it.
LIBRARY: dict[str, Any] = {"out": None, "verbose": 1, "split": "fit"}


class DMF:
    """Deep matrix factorisation (DMF, or DMF-D with `model="dmf-d"`) as an estimator.

    Keywords are the `train` command's flags (`python -m dmf_core train --help`), with `-` written `_`: model,
    preset, epochs, new_users, new_items, val_frac, test_frac, seed, device, max_seconds, hidden, activation,
    dropout, lr, weight_decay, block_users, block_items, input_dropout, output, companion, patience, lambda_start,
    lambda_growth, lambda_max, lambda_schedule, warmup_epochs, gamma2, network_lr_scale, quantizer_finish,
    select_margin, rating_scale, quiet; `out`, a folder to
    write the run to as `train --out` does; and `verbose`, as scikit-learn's: 0 / False draws no progress, 1 / True
    (the default) a bar that fits where it runs (a line under the cell in Jupyter, the command line's bar in a
    terminal, nothing in a log), 2 the command line's bar wherever stderr goes; `split`: "fit" (the default: train
    on every rating but a validation share of `config.VAL_FRAC` that selects the epoch, no user, item or test share
    held out, so every user and item of the data is known) or "areas" (the paper's area experiment, `train`'s
    split: 10% new users, 10% new items, 75/5/20 observed/validation/test); new_users, new_items, val_frac and
    test_frac given override it. Other settings left out take `train`'s defaults, derived ones included;
    `get_params()` / `set_params(**settings)` read and change them.

    After `fit` (or `DMF.load`): `history_` (one row per epoch), `scores_` (RMSE / MAE per area on the validation
    ratings, as its `measured_on` column says, with `baseline_rmse`, global mean + biases on the same ratings; area
    I of a model blended with its companion cross-fitted, as the blend's weights were fitted on those ratings),
    `metrics_` (what `train` writes to metrics.json: with `split="areas"` the test RMSE per area beside the global
    mean + biases baseline; after `load`, None), `model_` (the network), `observed_` (`scoring.observed.Observed`: the
    data, its split and each item's ratings in training) and `predictor_` (every user's and item's latent factors,
    embedded once), which `scoring.cold_start.cold_start_curve` and the notebooks read."""

    def __init__(self, **flags: Any) -> None:
        self._given: dict[str, Any] = {}
        self._flags = self._checked(flags)  # a bad setting fails here, not after the data
        self.model_: DMFNet | None = None
        self.history_: pd.DataFrame | None = None
        self.scores_: pd.DataFrame | None = None
        self.metrics_: dict[str, Any] | None = None

    def _checked(self, given: dict[str, Any]) -> dict[str, Any]:
        """Check every setting (one-line ValueError) and set the configs they make; returns them all, the split
        flags filled in from `split` where not given."""
        unknown = set(given) - set(FLAGS) - set(LIBRARY)
        if unknown:
            raise ValueError(f"unknown setting {sorted(unknown)[0]!r}: the settings are the train command's flags "
                             f"({', '.join(FLAGS)}) and {', '.join(LIBRARY)}")
        split = {**LIBRARY, **given}["split"]
        named = {k: v for k, v in split_flags(split).items() if given.get(k) is None}
        flags = {**FLAGS, **LIBRARY, **given, **named}
        verbose = flags["verbose"]
        if not isinstance(verbose, (bool, int, np.integer)) or verbose < 0:
            raise ValueError(f"verbose must be 0 / False (no progress), 1 / True or 2, got {verbose!r}")
        self._configs = configs_from_flags(**{k: v for k, v in flags.items() if k in FLAGS})
        self._scale = scale_request(flags["rating_scale"])
        self._given = dict(given)
        return flags

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The settings (every flag, defaults included, the split flags as `split` sets them): as given, or after
        `DMF.load` the loaded run's."""
        return dict(self._flags)

    def set_params(self, **params: Any) -> DMF:
        """Change settings for the next `fit`, as scikit-learn's estimators do; returns the estimator. An unknown name
        or a bad value is a one-line ValueError, and then nothing changes."""
        given, flags, configs, scale = self._given, self._flags, self._configs, self._scale
        try:
            self._flags = self._checked({**self._given, **params})
        except ValueError:
            self._given, self._flags, self._configs, self._scale = given, flags, configs, scale
            raise
        return self

    def __repr__(self) -> str:
        defaults = {**FLAGS, **LIBRARY}
        given = ", ".join(f"{k}={v!r}" for k, v in self._given.items() if v != defaults.get(k) or k in SPLIT_FLAGS)
        return f"DMF({given})"

    # -------------------------------------------------------------------------------------------------- training

    def fit(self, ratings: Any, columns: tuple[str, str, str] | None = None) -> DMF:
        """Train on `ratings`: a DataFrame with user, item, rating columns (other names: `columns=(u, i, r)`), a
        `RatingData`, or anything `--data` accepts ("demo", "ml-1m", a path). Returns the model. With `out`, a folder
        holding an interrupted run is refused, as `train --out` refuses it."""
        if self._flags["out"] is not None:
            refuse_interrupted(self._flags["out"], "out=")
        data = self._data(ratings, columns)
        split_config, model_config, train_config = self._configs
        quiet = self._flags["quiet"]
        bar = None if quiet else library_bar(self._flags["verbose"], train_config.epochs)
        metrics, result = train_run(data, split_config, model_config, train_config, self._flags["out"],
                                    on_step=bar.step if bar else None, on_epoch=bar.epoch_done if bar else None,
                                    on_companion=bar.companion if bar else None)
        if bar is not None:
            bar.end_line()
        split = result.split
        # the checkpoint `train_run` wrote with `out`, or built here: `save` writes it, `load` reads it back
        checkpoint = result.checkpoint or final_checkpoint(result, data, split, model_config, split_config)
        self._set(checkpoint, result.model, Observed.from_run(data, split), result.predictor)
        self.metrics_ = metrics
        return self

    def _data(self, ratings: Any, columns: tuple[str, str, str] | None) -> RatingData:
        if isinstance(ratings, RatingData):
            return ratings
        if isinstance(ratings, (str, Path)):
            return load_dataset(ratings, rating_scale=self._scale)
        users, items, values = columns_of(ratings, columns, RATING_COLUMNS, "ratings")
        return from_triples(users, items, values, name="ratings", source="ratings", rating_scale=self._scale)

    def _set(self, checkpoint: dict[str, Any], model: DMFNet, observed: Observed, predictor: Predictor) -> None:
        self.checkpoint_ = checkpoint
        self.model_ = model
        self.observed_ = observed
        self.predictor_ = predictor
        self._rated: sp.csr_matrix | None = None
        self._users = observed.user_index()
        self._items = observed.item_index()
        self.history_ = pd.DataFrame(checkpoint.get("history") or [])
        self.scores_ = area_frame(checkpoint.get("val_scores"), checkpoint.get("val_baseline"))

    def _fitted(self) -> Observed:
        if self.model_ is None:
            raise ValueError("this DMF is not fitted yet: call fit(ratings) or DMF.load(path) first")
        return self.observed_

    # ------------------------------------------------------------------------------------------------ prediction

    def predict(self, pairs: Any, context: Any = None, *, columns: tuple[str, str] | None = None,
                discrete: bool = False) -> np.ndarray:
        """Predicted ratings for `pairs` (a DataFrame with user, item columns of the data's own ids, or rows of
        (user, item)). `context`: ratings (user, item, rating) of users and/or items the model never saw, read as
        their input rows / columns, with no retraining: a new user's ratings of items the model trained on form
        their row, a new item's ratings by users it trained on its column (so a new user × new item pair is scored
        from both); ratings between users and items the model knows are not needed and are left out.
        `discrete`: DMF-D's hard quantizer, or DMF rounded to the scale's levels."""
        observed = self._fitted()
        raw_users, raw_items = columns_of(pairs, columns, PAIR_COLUMNS, "pairs")
        users = lookup(self._users, raw_users)
        items = lookup(self._items, raw_items)
        if context is None:
            _known(users, raw_users, "user")
            _known(items, raw_items, "item")
            pred = self.predictor_.continuous(users, items)
        else:
            scorer, users, items = self._with_context(context, raw_users, raw_items, users, items)
            pred = scorer.continuous(users, items)
        if not discrete:
            return pred
        if self.model_.discrete:
            return self.predictor_.discrete(pred)
        return round_to_scale(pred, observed.data.rating_scale, observed.data.rating_step)

    def _with_context(self, context: Any, raw_users: np.ndarray, raw_items: np.ndarray, users: np.ndarray,
                      items: np.ndarray) -> tuple[Predictor, np.ndarray, np.ndarray]:
        observed = self._fitted()
        data, split = observed.data, observed.split
        c_users, c_items, c_ratings = columns_of(context, None, RATING_COLUMNS, "context")
        repeat = first_repeat(c_users, c_items)
        if repeat is not None:
            raise ValueError(f"context: user {repeat[0]!r} rates item {repeat[1]!r} more than once")
        check_ratings(c_ratings, data.rating_scale, "context: rating")
        known_u, known_i = lookup(self._users, c_users), lookup(self._items, c_items)
        new_users, new_items = pd.Index(pd.unique(c_users[known_u < 0])), pd.Index(pd.unique(c_items[known_i < 0]))
        device = self.predictor_.user_factors.device
        # A new user's row: their ratings of items the model trained on; a new item's column: its ratings by users
        # the model trained on (as `split` builds the inputs of held-out users and items).
        in_row = (known_u < 0) & (known_i >= 0) & ~split.new_item[np.maximum(known_i, 0)]
        in_col = (known_i < 0) & (known_u >= 0) & ~split.new_user[np.maximum(known_u, 0)]
        user_rows = rows_of(new_users.get_indexer(c_users[in_row]), known_i[in_row], c_ratings[in_row],
                            len(new_users), data.n_items, data.rating_scale, device)
        item_cols = rows_of(new_items.get_indexer(c_items[in_col]), known_u[in_col], c_ratings[in_col],
                            len(new_items), data.n_users, data.rating_scale, device)
        scorer = extended_predictor(self.predictor_, user_rows, item_cols)
        users, items = users.copy(), items.copy()
        for index, raw, new, offset, what in ((users, raw_users, new_users, data.n_users, "user"),
                                              (items, raw_items, new_items, data.n_items, "item")):
            missing = index < 0
            extra = new.get_indexer(raw[missing])
            _known(extra, raw[missing], what, in_context=True)
            index[missing] = offset + extra
        return scorer, users, items

    def recommend(self, ratings: Any = None, k: int = 10, *, user: Any = None, by: str = RANKINGS[0],
                  rating_weight: float | None = None) -> pd.DataFrame:
        """The `k` best items, best first, for one new person given their `ratings` (`{item: rating}` with the data's
        item ids, or a DataFrame / Series of item, rating), or for `user`, a user the model knows (a top-N for them
        from their row, as implicit's `recommend(userid, ...)`); the items rated (for `user`: in the ratings the
        model reads, its inputs) are left out. Returns a DataFrame ordered by `score`, descending, with columns
        item, score (the sort key), predicted_rating (unclamped: beyond the scale's ends where the model puts an
        item there), n_ratings (the item's ratings in training, `Observed.popularity`) and title where the data
        has titles.

        `by="relevance"` (the default): `score` is log(co-rating score) + `rating_weight` · the predicted rating on
        0..1 of the scale (`rankers.relevance`; default weight `config.RATING_WEIGHT`, chosen on validation users:
        docs/ranking.md): how likely the person is to rate the item, from how often their rated items are co-rated
        with it in training, times how much they would like it. A plain rating order puts items with a few high
        ratings first and loses to "most popular" on top-N metrics; `by="rating"` gives it: `score` is then the
        predicted rating itself."""
        observed = self._fitted()
        data = observed.data
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k must be a whole number >= 1, got {k!r}")
        if (ratings is None) == (user is None):
            raise ValueError("recommend: give one of ratings (a new person's {item: rating}) or user= (a known user)")
        if user is None:
            items, unclamped = self._new_person(ratings)
        else:
            items, unclamped = self._known_user(user)
        chosen, key = recommended(unclamped, self._rated_matrix(), items, k, by, rating_weight, data.rating_scale)
        frame = pd.DataFrame({"item": data.item_ids[chosen], "score": key.astype(np.float64),
                              "predicted_rating": unclamped[chosen].astype(np.float64),
                              "n_ratings": observed.popularity[chosen].astype(np.int64)})
        if data.item_titles is not None:
            frame["title"] = [data.item_titles[i] for i in chosen]
        return frame

    def _new_person(self, ratings: Any) -> tuple[np.ndarray, np.ndarray]:
        """A new person's rated item indices and every item's unclamped predicted rating, from their ratings."""
        observed = self.observed_
        if isinstance(ratings, pd.Series):
            ratings = ratings.to_dict()
        if isinstance(ratings, dict):
            if not ratings:
                raise ValueError("ratings: no ratings given: rate at least one item")
            ratings = pd.DataFrame({"item": list(ratings), "rating": list(ratings.values())})
        raw_items, values = columns_of(ratings, None, ("item", "rating"), "ratings")
        items = lookup(self._items, raw_items)
        _known(items, raw_items, "item", hint="")
        scored = score_new_user(self.predictor_, observed.split.new_item, items.tolist(), values.tolist(),
                                observed.data.rating_scale)
        return items, scored.unclamped

    def _known_user(self, user: Any) -> tuple[np.ndarray, np.ndarray]:
        """A known user's rated item indices (in the model's inputs) and every item's unclamped predicted rating."""
        data, split = self.observed_.data, self.observed_.split
        raw = np.asarray([user])
        index = lookup(self._users, raw)
        _known(index, raw, "user", hint=": give a new person's ratings with recommend(ratings) instead")
        u = int(index[0])
        items = data.items[(data.users == u) & (split.role == OBSERVED)]
        every = np.arange(data.n_items)
        return items, self.predictor_.continuous(np.full(data.n_items, u), every, clamp=False)

    def _rated_matrix(self) -> sp.csr_matrix:
        """Who rated what in the model's inputs (`rankers.rated_matrix`), built on the first `recommend`."""
        if self._rated is None:
            self._rated = rated_matrix(self.observed_.data, self.observed_.split)
        return self._rated

    # ------------------------------------------------------------------------------------------------ save, load

    def save(self, path: str | Path) -> Path:
        """Write the model as `train` writes checkpoint.pt (into `path`, a file, or `path/checkpoint.pt` for a
        folder), with the inputs it predicts from; returns the file written."""
        self._fitted()
        path = Path(path)
        if path.is_dir() or not path.suffix:
            path = path / CHECKPOINT_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        return ckpt.save(self.checkpoint_, path)

    @classmethod
    def load(cls, path: str | Path, data: Any = None, device: str = "cpu") -> DMF:
        """A saved model: `DMF.save`'s file, or a checkpoint.pt (or its run folder) written by `train` or the app.
        A checkpoint from before the inputs were stored needs its ratings: `data` (a RatingData or a --data spec),
        else the built-in data it names ("demo", "ml-1m", ...); `data` is not read when the checkpoint carries them."""
        path = Path(path)
        if path.is_dir():
            path = path / CHECKPOINT_FILE
        return cls.from_checkpoint(ckpt.load(path), data, device, where=str(path))

    @classmethod
    def from_checkpoint(cls, checkpoint: dict[str, Any], data: Any = None, device: str = "cpu",
                        where: str = "the checkpoint") -> DMF:
        """`load` of a checkpoint already read (`runs.checkpoint.load`): the app reads each run's file once."""
        torch_device = pick_device(device)
        model = ckpt.restore_model(checkpoint, torch_device)
        observed = Observed.from_checkpoint(checkpoint)
        model_config, train_config, split_config = ckpt.configs(checkpoint)
        # The loaded run's settings (derived ones as trained), on the device it was loaded to.
        estimator = cls(**{**flags_from_configs(split_config, model_config, train_config), "device": device,
                           "split": split_name(split_config)})
        estimator._configs = (split_config, model_config, train_config)  # exactly the run's, unflagged ones too
        if observed is None:
            spec = data if data is not None else data_reference(checkpoint)
            if spec is None:
                raise ValueError(f"{where} was saved without its inputs: give its ratings with DMF.load(path, data=...)")
            ratings = spec if isinstance(spec, RatingData) else load_dataset(spec, rating_scale=ckpt.stored_scale(checkpoint))
            ckpt.check_matches(checkpoint, ratings, where)
            split = split_areas(ratings, split_config)
            observed = Observed.from_run(ratings, split)
            checkpoint = {**checkpoint, **library_state(ratings, split, model, observed.inputs(torch_device))}
        predictor = Predictor.build(model, observed.inputs(torch_device))
        estimator._set(checkpoint, model, observed, predictor)
        return estimator


def _known(index: np.ndarray, raw: np.ndarray, what: str, in_context: bool = False, hint: str | None = None) -> None:
    """A one-line ValueError naming the first id that `index` could not place (-1)."""
    if (index >= 0).all():
        return
    value = raw[int(np.flatnonzero(index < 0)[0])]
    value = value.item() if isinstance(value, np.generic) else value
    if in_context:
        raise ValueError(f"{what} {value!r} is not known to the model, nor rated in context=: add its ratings to "
                         "context")
    if hint is None:
        hint = f": give its ratings with predict(..., context=ratings) to score a new {what}"
    raise ValueError(f"{what} {value!r} is not known to the model{hint}")
