"""Rating data in, one shape out: every source (generated demo, MovieLens files, tables, uploads) becomes `RatingData`.

- `ratings`: `RatingData`, `from_triples` (ids remapped, scale read or given and checked, duplicates checked),
  `parse_rating_scale`, `DataError`, fingerprints;
- `formats`: parsers for MovieLens `ratings.dat` / `u.data` / `ratings.csv` and CSV/TSV tables;
- `movielens`: MovieLens' titles, genres and user attributes (`movies.dat`, `users.dat`, `u.item`, `u.user`, ...);
- `sources`: `load_dataset(spec)` / `load_upload(name, bytes)`, folders, zips, and where each MovieLens release lives;
- `download`: the checksum-verified MovieLens downloads (100K, 1M, 10M, 20M, 25M);
- `demo`: the generated, MovieLens-shaped demo data;
- `planted`: the Playground's 12 × 10 matrix with three planted taste groups, and its one-line text form;
- `split`: the paper's four areas (new users, new items) and the observed / validation / test roles, seeded;
- `frames`: the library's tables in (a DataFrame, an array or tuples), checked, as arrays.

This package imports nothing else from `dmf_core` but `errors` and `config`: it is the bottom layer.
"""

from .ratings import DataError, RatingData, dataset_fingerprint, from_triples, parse_rating_scale
from .sources import DATA_DIR, ML1M_ENV, RELEASES, find_ml1m, find_movielens, load_dataset, load_upload

__all__ = [
    "DATA_DIR",
    "ML1M_ENV",
    "RELEASES",
    "DataError",
    "RatingData",
    "dataset_fingerprint",
    "find_ml1m",
    "find_movielens",
    "from_triples",
    "load_dataset",
    "load_upload",
    "parse_rating_scale",
]
