"""The app on half stars: the Data page reads and shows the scale of an upload (or takes one given by hand), and
the Quantizer page draws a DMF-D run on half-star data with its ten levels."""

from __future__ import annotations

from pathlib import Path

import pytest

from dmf_core.config import SplitConfig
from dmf_core.data import dataset_fingerprint, load_dataset
from studio.registry import JobRegistry
from tests.app.conftest import TINY_MODEL, tiny_train
from tests.app.helpers import chart_specs, texts
from tests.app.test_data import metrics, upload
from tests.test_scales import HALF, grid_ratings

HALF_LEVELS = [f"{0.5 * k:g}" for k in range(1, 11)]


def test_a_half_star_upload_shows_its_scale_and_histogram(open_page):
    at = upload(open_page("data"), "half.csv", grid_ratings(HALF).encode())
    assert metrics(at)["rating scale"] == "0.5–5" and not at.error
    histogram = next(s for s in chart_specs(at) if s["layout"]["title"]["text"] == "Rating histogram")
    assert histogram["layout"]["xaxis"]["dtick"] == 0.5


def test_a_scale_given_by_hand_is_kept_with_the_upload(open_page, isolated):
    at = open_page("data")
    at.radio(key="data-source").set_value("upload").run()
    at.text_input(key="data-upload-scale").input("0:10").run()
    at.file_uploader(key="data-upload").upload("half.csv", grid_ratings(HALF).encode(), "text/csv").run()
    at.button(key="data-use-upload").click().run()
    assert metrics(at)["rating scale"] == "0–10", texts(at)
    assert [p.read_text() for p in (isolated.parent / "uploads").glob("*/rating_scale.txt")] == ["0:10"]
    at.text_input(key="data-upload-scale").input("1:5:1").run()
    at.button(key="data-use-upload").click().run()
    assert "is not on the scale 1..5 in steps of 1" in "\n".join(e.value for e in at.error)


@pytest.fixture
def half_star_run(isolated, tmp_path) -> Path:
    """A DMF-D run, as the app saves it, on a half-star CSV kept where its run says."""
    path = tmp_path / "half.csv"
    path.write_text(grid_ratings(HALF))
    data = load_dataset(path)
    registry = JobRegistry(isolated)
    job = registry.submit("fixture", data, SplitConfig(), TINY_MODEL, tiny_train("dmf-d", 2), label="half dmf-d",
                          meta={"dataset_spec": str(path), "dataset_label": "half stars",
                                "dataset_fingerprint": dataset_fingerprint(data)})
    assert job.join(300) and job.snapshot().status == "finished", job.snapshot().error
    return path


def test_the_quantizer_page_draws_a_half_star_run(open_page, half_star_run):
    at = open_page("quantizer")
    assert "half dmf-d" in at.selectbox(key="quant-run").format_func(at.selectbox(key="quant-run").value)
    assert not at.error and "0.5..5 in steps of 0.5" in texts(at)
    specs = {s["layout"]["title"]["text"]: s for s in chart_specs(at)}
    confusion = next(s for title, s in specs.items() if title.startswith("Confusion"))
    assert confusion["data"][0]["x"] == HALF_LEVELS and confusion["data"][0]["y"] == HALF_LEVELS
    animation = next(s for title, s in specs.items() if "as λ grows" in title)
    assert animation["layout"]["yaxis"]["dtick"] == 0.5
    assert [x for x in animation["data"][2]["x"] if x is not None][::2] == [0.75 + 0.5 * k for k in range(9)]


def test_a_new_user_rates_in_half_stars(open_page, half_star_run):
    at = open_page("new_user")
    assert at.radio(key="nu-stars").options == ["★" * (k // 2) + "½" * (k % 2) for k in range(1, 11)]  # ½ .. ★★★★★
    at.radio(key="nu-stars").set_value(3.5)
    at.button(key="nu-add").click().run()
    assert not at.exception and not at.error
