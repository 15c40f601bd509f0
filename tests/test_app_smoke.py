"""AppTest smoke test: every registered page runs with its defaults, shows no exception,
and draws at least one chart or table."""
import pytest

from pages.ui.nav import registered
from tests.apptest_util import problems, run_page


@pytest.mark.parametrize("info", registered(), ids=lambda p: p.url_path)
def test_page_runs_with_defaults(info):
    at = run_page(info)
    assert problems(at) == []
    drawn = len(at.get("plotly_chart")) + len(at.get("arrow_data_frame")) + len(at.get("dataframe"))
    assert drawn > 0, f"{info.file} drew nothing"
    charts = len(at.get("plotly_chart"))
    assert len(at.caption) >= charts, f"{info.file}: {charts} charts but only {len(at.caption)} text summaries"


def test_home_shows_paris():
    at = run_page(registered()[0])
    captions = " ".join(c.value for c in at.caption)
    assert "“ Paris”" in captions


def test_bad_link_values_do_not_crash():
    home = registered()[0]
    at = run_page(home, {"layer": "999", "head": "abc", "text": "<script>alert(1)</script>"})
    assert problems(at) == []
    warnings = " ".join(w.value for w in at.warning)
    assert "layer" in warnings and "head" in warnings
    assert at.query_params["layer"] == "16"     # fell back to the default (the previous-token head) and republished


def test_empty_text_gives_message():
    at = run_page(registered()[0], {"text": "   "})
    assert problems(at) == []
    assert any("empty" in w.value for w in at.warning)
