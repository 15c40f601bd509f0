"""Moving home's Layer or Head slider reuses the sentence's forward pass (issue #17: a warm
interaction must not cost a forward pass), and gives the same numbers as a fresh walkthrough."""
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.figures import theme
from core.runtime import models
from core.text import pipeline

SMOL, TEXT = "smollm2-135m", "The cat sat on the mat"


def test_reused_pass_gives_the_fresh_walkthrough_without_a_second_forward(monkeypatch):
    base = pipeline.walkthrough(SMOL, TEXT, layer=0, head=0)
    fresh = pipeline.walkthrough(SMOL, TEXT, layer=7, head=3)
    calls = []
    real = models.run
    monkeypatch.setattr(models, "run", lambda *a, **k: calls.append(a) or real(*a, **k))
    reused = pipeline.walkthrough(SMOL, TEXT, layer=7, head=3, base=base)
    assert calls == []                                         # no forward pass for a slider move
    assert reused.layer == 7 and reused.head.shape == (len(base.result.tokens),) * 2
    np.testing.assert_allclose(reused.head, fresh.head, atol=1e-6)
    assert not np.allclose(reused.head, pipeline.walkthrough(SMOL, TEXT, layer=7, head=4, base=base).head)
    pd.testing.assert_frame_equal(reused.writes, fresh.writes)
    pd.testing.assert_frame_equal(reused.feed_forward(), fresh.feed_forward())
    assert reused.final_token == fresh.final_token


def test_a_base_of_another_sentence_is_not_reused(monkeypatch):
    base = pipeline.walkthrough(SMOL, TEXT, layer=0, head=0)
    other = pipeline.walkthrough(SMOL, "A dog ran", layer=2, head=1, base=base)
    assert other.result.text == "A dog ran" and other.head.shape == (len(other.result.tokens),) * 2


def test_figures_use_the_white_template_without_naming_it():
    fig = theme.base_layout(go.Figure())
    assert fig.layout.template.layout.paper_bgcolor == "white"
    assert "plotly_white" in theme.pio.templates.default
