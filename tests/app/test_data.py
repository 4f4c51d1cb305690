"""Data page: the demo's statistics, loading from a path/upload/download, bad input, and the split."""

from __future__ import annotations

import io
import zipfile

import dmf_core.data.download
from dmf_core.config import SplitConfig
from tests.app.helpers import chart_specs, texts


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def sidebar_text(at) -> str:
    return "\n".join(str(m.value) for m in at.sidebar.markdown)


def test_demo_statistics_charts_and_areas(open_page):
    at = open_page("data")
    assert metrics(at) == {"users (rows)": "400", "items (columns)": "300", "ratings": "12,003",
                           "sparsity": "90.00%", "rating scale": "1–5"}  # the small demo of tests/app/conftest.py
    titles = [spec["layout"].get("title", {}).get("text", "") for spec in chart_specs(at)]
    assert "Rating histogram" in titles
    assert any(t.startswith("Users: median") for t in titles) and any(t.startswith("Items: median") for t in titles)
    assert any("filled" in t for t in titles)  # the sampled heatmap
    counts = at.dataframe[0].value
    assert list(counts.index) == ["I", "II", "III", "IV"] and counts["total"].sum() == 12_003
    at.radio(key="data-window").set_value("dense").run()
    assert not at.exception


def test_split_changes_the_areas_and_bad_shares_are_refused(open_page):
    at = open_page("data")
    before = at.dataframe[0].value["total"].to_dict()
    at.slider(key="split-new-users").set_value(30)
    at.number_input(key="split-seed").set_value(7)
    at.button(key="FormSubmitter:data-split-Apply split").click().run()
    assert "Split applied" in texts(at)
    after = at.dataframe[0].value["total"].to_dict()
    assert after["II"] > before["II"] and after["I"] < before["I"]
    assert "30% new users" in sidebar_text(at) and "seed 7" in sidebar_text(at)

    at.number_input(key="split-val").set_value(0.5)
    at.number_input(key="split-test").set_value(0.6)
    at.button(key="FormSubmitter:data-split-Apply split").click().run()
    assert "Split not changed: val_frac + test_frac must leave some ratings observed" in texts(at)
    assert at.dataframe[0].value["total"].to_dict() == after  # the applied split is kept


def upload(at, name: str, payload: bytes, mime: str = "text/csv"):
    at.radio(key="data-source").set_value("upload").run()
    at.file_uploader(key="data-upload").upload(name, payload, mime).run()
    at.button(key="data-use-upload").click().run()
    assert not at.exception
    return at


def test_a_good_csv_upload_becomes_the_dataset(open_page, isolated):
    rows = "\n".join(f"{u},{i},{(u * i) % 5 + 1}" for u in range(30) for i in range(20) if (u + i) % 3)
    at = upload(open_page("data"), "mine.csv", f"user,item,rating\n{rows}\n".encode())
    assert "Loaded upload: mine.csv: 30 users, 20 items" in texts(at)
    assert metrics(at)["users (rows)"] == "30" and "upload: mine.csv" in sidebar_text(at)
    assert list((isolated.parent / "uploads").glob("*/mine.csv"))  # kept, so runs on it can be reopened


def test_bad_uploads_get_one_line_and_keep_the_current_data(open_page):
    at = open_page("data")
    cases = [
        ("notes.csv", b"hello world\nthis is not a rating table\n", "Could not read notes.csv"),
        ("ratings.dat", b"1::1::4::0\n1::2::9::0\n", "outside the scale"),  # as a table, 4 and 9 read as 1..10
        ("ml-1m.zip", b"PK\x03\x04 definitely not a zip", "Could not read ml-1m.zip"),
        ("empty.csv", b"", "Could not read empty.csv"),
    ]
    for name, payload, message in cases:
        upload(at, name, payload)
        shown = "\n".join(e.value for e in at.error)
        assert message in shown, (name, shown)
        assert "Traceback" not in shown and len(shown.splitlines()) == 1
        assert metrics(at)["users (rows)"] == "400"  # the demo is still loaded


def test_a_zip_upload_with_a_ratings_file_works(open_page):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("tiny/ratings.dat", "".join(f"{u}::{i}::{(u + i) % 5 + 1}::0\n"
                                                     for u in range(1, 25) for i in range(1, 15)))
    at = upload(open_page("data"), "tiny.zip", buffer.getvalue(), "application/zip")
    assert metrics(at)["users (rows)"] == "24" and metrics(at)["items (columns)"] == "14"


def test_a_missing_local_path_is_reported(open_page, tmp_path):
    at = open_page("data")
    at.radio(key="data-source").set_value("local").run()
    at.text_input(key="data-path").input(str(tmp_path / "data" / "nowhere")).run()  # inside DMF_DATA_DIR
    at.button(key="data-load-path").click().run()
    assert "no such file or folder" in "\n".join(e.value for e in at.error)
    assert metrics(at)["users (rows)"] == "400"


def test_download_offline_fails_cleanly(open_page, monkeypatch):
    # Port 9 (discard) refuses at once: what an offline machine looks like, without waiting for a timeout.
    monkeypatch.setattr(dmf_core.data.download, "ML1M_URL", "http://127.0.0.1:9/ml-1m.zip")
    at = open_page("data")
    at.radio(key="data-source").set_value("download").run()
    at.button(key="data-download").click().run()
    shown = "\n".join(e.value for e in at.error)
    assert shown.startswith("Download failed:") and len(shown.splitlines()) == 1
    assert metrics(at)["users (rows)"] == "400"


def test_validation_and_test_shares_feed_the_split(open_page):
    at = open_page("data")
    at.slider(key="split-new-users").set_value(0)
    at.slider(key="split-new-items").set_value(0)
    at.number_input(key="split-val").set_value(0.05)
    at.number_input(key="split-test").set_value(0.10)
    at.button(key="FormSubmitter:data-split-Apply split").click().run()
    assert "Split applied" in texts(at)
    assert at.session_state["studio_split"] == SplitConfig(0.0, 0.0, 0.05, 0.10, 0)
    counts = at.dataframe[0].value
    assert counts.loc["I", "total"] == 12_003 and counts.loc[["II", "III", "IV"], "total"].sum() == 0
    assert abs(counts.loc["I", "test"] / 12_003 - 0.10) < 0.01 and abs(counts.loc["I", "val"] / 12_003 - 0.05) < 0.01
    assert "observed (85%), validation (5%) or test (10%)" in texts(at)


def test_the_literature_protocol_is_one_click(open_page):
    at = open_page("data")
    at.number_input(key="split-seed").set_value(3)
    at.button(key="FormSubmitter:data-split-Apply split").click().run()
    at.button(key="split-literature").click().run()
    assert not at.exception and "the literature's protocol" in texts(at)
    assert at.session_state["studio_split"] == SplitConfig(0.0, 0.0, 0.05, 0.10, 3)
    assert at.slider(key="split-new-users").value == 0 and at.number_input(key="split-test").value == 0.10
    at.button(key="FormSubmitter:data-split-Apply split").click().run()  # the form now holds the same split
    assert at.session_state["studio_split"] == SplitConfig(0.0, 0.0, 0.05, 0.10, 3)


def test_movielens_100k_is_one_of_the_local_releases(open_page, tmp_path, monkeypatch):
    folder = tmp_path / "ml-100k"
    folder.mkdir()
    (folder / "u.data").write_text("".join(f"{u}\t{i}\t{(u * i) % 5 + 1}\t0\n" for u in range(1, 31)
                                           for i in range(1, 21) if (u + i) % 3))
    flags = "|".join(["0", "0", "0", "1"] + ["0"] * 15)  # Animation
    (folder / "u.item").write_bytes("".join(f"{i}|Film {i} (1995)|01-Jan-1995||http://x|{flags}\n"
                                            for i in range(1, 21)).encode("latin-1"))
    (folder / "u.user").write_text("".join(f"{u}|{20 + u}|{'MF'[u % 2]}|writer|00000\n" for u in range(1, 31)))
    monkeypatch.setenv("DMF_ML100K_DIR", str(folder))
    at = open_page("data")
    at.radio(key="data-source").set_value("local").run()
    at.selectbox(key="data-local-release").set_value("ml-100k").run()
    assert at.text_input(key="data-path-ml-100k").value == str(folder)
    at.button(key="data-load-path").click().run()
    assert "Loaded MovieLens-100K: 30 users, 20 items" in texts(at)
    at.radio(key="data-source").set_value("download").run()
    assert "MovieLens-100K" in at.selectbox(key="data-download-release").options
