"""The load generator's leak check reads what a run showed the way a person reads it: a tag split
across token pills still counts (issue #17: the check was weak because pills split the tag)."""
from bench.load.protocol import TAG, Run, visible_text
from core.runtime import models
from pages.ui.tokens import pills_html



def _pills(text: str) -> str:
    enc = models.encode(models.load("smollm2-135m"), text)
    lm = models.load("smollm2-135m")
    tokens = [lm.tokenizer.decode([i]) for i in enc["ids"]]
    return pills_html(tokens, enc["ids"])


def test_a_tag_split_across_pills_is_found():
    markup = _pills("The qz0042 cat sat")
    assert markup.count("<span") >= 4 and not TAG.search(markup)   # split over pills: not in the raw markup
    assert Run(0.0, "ok", text=[markup]).tags(TAG) == {"qz0042"}
    assert Run(0.0, "ok", text=["nothing here", _pills("The cat sat")]).tags(TAG) == set()


def test_visible_text_drops_markup_and_reads_marks():
    assert visible_text("<b title='qz9999'>a&amp;b</b>·c") == "a&b c"   # attributes are not shown text
    assert Run(0.0, "ok", text=["plain qz0001 and qz0002"]).tags(TAG) == {"qz0001", "qz0002"}


def test_a_tag_inside_base64_chart_data_is_not_a_leak():
    """Plotly sends arrays as base64; "qz" + 4 digits occurs there by chance and is no user's text."""
    spec = '{"z": {"dtype": "f4", "bdata": "AAAAqz1234PQ+/"}, "text": ["The qz0007 cat"]}'
    assert Run(0.0, "ok", text=[spec]).tags(TAG) == {"qz0007"}
