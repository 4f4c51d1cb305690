"""MovieLens' decoration: titles, genres and user attributes from the files beside the ratings.

ML-1M's `movies.dat` / `users.dat` (`::`, latin-1), ML-100K's `u.item` (titles and 19 genre flags) / `u.user`
(`|`, latin-1), ML-20M/25M's `movies.csv`. All of it only decorates the UI (the Latent map colours by genre, gender,
age and occupation), so a malformed line is skipped rather than failing the load. ML-100K's users are given ML-1M's
age groups and genres ML-1M's spelling, so both releases look alike downstream.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd


def strip_bom(raw: bytes) -> bytes:
    return raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw  # Excel's UTF-8 CSV export starts with a BOM


def parse_ml1m_movies(raw: bytes) -> dict[int, str]:
    """`MovieID::Title::Genres` (latin-1) -> {movie id: title}."""
    return _parse_titles(raw, "::")


def parse_ml1m_genres(raw: bytes) -> dict[int, str]:
    """`MovieID::Title::Genres` (latin-1) -> {movie id: "Animation|Children's|Comedy"}."""
    return _parse_titles(raw, "::", column=2)


ML1M_GENDERS = {"F": "female", "M": "male"}
ML1M_AGES = {"1": "Under 18", "18": "18-24", "25": "25-34", "35": "35-44", "45": "45-49", "50": "50-55", "56": "56+"}
ML1M_OCCUPATIONS = (
    "other", "academic/educator", "artist", "clerical/admin", "college/grad student", "customer service",
    "doctor/health care", "executive/managerial", "farmer", "homemaker", "K-12 student", "lawyer", "programmer",
    "retired", "sales/marketing", "scientist", "self-employed", "technician/engineer", "tradesman/craftsman",
    "unemployed", "writer",
)  # fmt: skip


def parse_ml1m_users(raw: bytes) -> dict[int, dict[str, str]]:
    """`UserID::Gender::Age::Occupation::Zip-code` -> {user id: {gender, age, occupation}}, codes spelled out as in
    ML-1M's README. Like titles, only decoration: a malformed line is skipped."""
    users: dict[int, dict[str, str]] = {}
    for line in raw.decode("latin-1").splitlines():
        parts = line.split("::")
        if len(parts) >= 4 and parts[0].strip().isdigit():
            gender, age, code = (part.strip() for part in parts[1:4])
            known = code.isdigit() and int(code) < len(ML1M_OCCUPATIONS)
            users[int(parts[0])] = {"gender": ML1M_GENDERS.get(gender, gender), "age": ML1M_AGES.get(age, age),
                                    "occupation": ML1M_OCCUPATIONS[int(code)] if known else code}
    return users


def parse_ml100k_items(raw: bytes) -> dict[int, str]:
    """`u.item`: `id|title|release date|...` (latin-1) -> {item id: title}."""
    return _parse_titles(raw, "|")


# ML-100K's u.genre, in the order of u.item's 19 flags; "unknown" is left out, as ML-1M has no such genre.
ML100K_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama", "Fantasy",
    "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip


def parse_ml100k_genres(raw: bytes) -> dict[int, str]:
    """`u.item`: `id|title|release date|video release date|IMDb URL|` + 19 genre flags (0/1, u.genre's order) ->
    {item id: "Animation|Children's|Comedy"}, spelled as ML-1M's movies.dat spells them."""
    genres: dict[int, str] = {}
    for line in raw.decode("latin-1").splitlines():
        parts = line.split("|")
        if len(parts) >= 5 + len(ML100K_GENRES) and parts[0].strip().isdigit():
            flags = parts[-len(ML100K_GENRES):]
            genres[int(parts[0])] = "|".join(name for name, flag in zip(ML100K_GENRES, flags, strict=True)
                                             if flag.strip() == "1" and name != "unknown")
    return genres


def ml1m_age_group(age: int) -> str:
    """An age in years as ML-1M's age groups (users.dat codes them), so both releases colour the latent map alike."""
    bounds = ((18, "1"), (25, "18"), (35, "25"), (45, "35"), (50, "45"), (56, "50"))
    return ML1M_AGES[next((code for limit, code in bounds if age < limit), "56")]


def parse_ml100k_users(raw: bytes) -> dict[int, dict[str, str]]:
    """`u.user`: `user id|age|gender|occupation|zip code` -> {user id: {gender, age, occupation}}, with ages grouped
    as ML-1M's and occupations as written (`technician`, `writer`, ...). A malformed line is skipped."""
    users: dict[int, dict[str, str]] = {}
    for line in raw.decode("latin-1").splitlines():
        parts = line.split("|")
        if len(parts) >= 4 and parts[0].strip().isdigit():
            age, gender, occupation = (part.strip() for part in parts[1:4])
            users[int(parts[0])] = {"gender": ML1M_GENDERS.get(gender, gender),
                                    "age": ml1m_age_group(int(age)) if age.isdigit() else age,
                                    "occupation": occupation}
    return users


def parse_movies_csv(raw: bytes) -> dict[int, str]:
    """ML-20M/25M's `movies.csv` (`movieId,title,genres`, titles with commas in quotes) -> {movie id: title}."""
    return _movies_csv(raw, "title")


def parse_movies_csv_genres(raw: bytes) -> dict[int, str]:
    return _movies_csv(raw, "genres")


def _movies_csv(raw: bytes, column: str) -> dict[int, str]:
    # Decoration, like every titles file: an unreadable one gives no titles rather than failing the load.
    try:
        frame = pd.read_csv(io.BytesIO(strip_bom(raw)), dtype=str, keep_default_na=False, encoding="utf-8",
                            encoding_errors="replace", engine="c")
        ids = pd.to_numeric(frame["movieId"], errors="coerce")
        keep = ids.notna().to_numpy()
        return dict(zip(ids[keep].astype(np.int64).tolist(), frame[column][keep].tolist(), strict=True))
    except (ValueError, KeyError, pd.errors.ParserError, pd.errors.EmptyDataError):
        return {}


def _parse_titles(raw: bytes, sep: str, column: int = 1) -> dict[int, str]:
    # Titles only decorate the UI, so a malformed line is skipped rather than failing the whole load.
    titles: dict[int, str] = {}
    for line in raw.decode("latin-1").splitlines():
        parts = line.split(sep)
        if len(parts) > column and parts[0].strip().isdigit():
            titles[int(parts[0])] = parts[column]
    return titles
