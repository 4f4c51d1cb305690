"""Every page renders without an error, with and without saved runs. (Render times are measured by
benchmarks/bench_app_training.py, not asserted here: CI machines are shared.) The Playground reads no runs, and
tests/app/test_playground.py opens it eight times; it is left out here."""

from __future__ import annotations

import pytest

from tests.app.conftest import PAGES

INTRO_WORDS = {"home": "matrix", "data": "matrix", "train": "area I", "quantizer": "boundary", "areas": "area I",
               "new_user": "never seen", "latent_map": "cosine of the angle"}
RENDERED = [page for page in PAGES if page != "playground"]  # every other page, new ones included


@pytest.mark.parametrize("page", RENDERED)
def test_every_page_renders_with_runs(open_page, with_runs, page):
    at = open_page(page)
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any(INTRO_WORDS[page] in m.value for m in at.markdown)  # the intro says what the learner sees
    at.run()  # a rerun from the caches renders the same
    assert not at.exception and not at.error


@pytest.mark.parametrize("page", RENDERED)
def test_every_page_renders_on_a_fresh_install(open_page, page):
    at = open_page(page)
    assert not at.exception and not at.error
