"""The "Encoder–decoder & cross-attention" page: its figure builders (asserted on fig.data / fig.layout)
and every tab through AppTest on the typed-text path (espeak-ng -> Whisper tiny.en), deep-linked; a bad
link value and an empty text give a message, never an exception."""
import numpy as np
import pandas as pd
import pytest

from core.figures import speech as fx
from pages.ui.nav import by_url
from tests.apptest_util import problems, run_page

PAGE = by_url("encoder-decoder")
TABS = ["Encoder input", "Encoder self-attention", "Decoder self-attention", "Cross-attention", "Step-by-step decoding"]


def test_input_figure_marks_the_padding_and_the_encoder_positions():
    audio = np.sin(np.arange(32000) / 10).astype(np.float32)
    fig = fx.input_figure(audio, 16000, np.zeros((80, 3000), np.float32))
    heat = fig.data[1]
    assert heat.type == "heatmap" and np.asarray(heat.z).shape == (80, 3000)
    assert np.isclose(heat.x[-1], 29.995) and heat.customdata[0][-1] == 1499        # 20 ms positions
    assert {s.x0 for s in fig.layout.shapes} == {2.0}                                  # padding from 2 s
    assert "zero padding" in fig.layout.annotations[-1].text


def test_alignment_image_draws_one_box_per_token():
    w = np.random.default_rng(0).random((3, 50))
    al = pd.DataFrame({"token": [" a", " b", "<c>"], "start_s": [0.0, 0.3, 0.6], "end_s": [0.3, 0.6, 1.0]})
    fig = fx.alignment_image(w, list(al.token), 0.02, path=al)
    heat, path = fig.data
    assert np.allclose(np.asarray(heat.z), w) and len(heat.y) == 3 and "&lt;c&gt;" in heat.y[2]
    assert [x for x in path.x if x is not None] == [0.0, 0.3, 0.3, 0.6, 0.6, 1.0]


def test_step_figure_highlights_the_choice():
    fig = fx.step_figure([(" The", 0.7), (" the", 0.2)], " The", np.ones(100) / 100, 0.02, 0)
    assert list(fig.data[0].y) == ["·The", "·the"] and fig.data[0].marker.color[0] != fig.data[0].marker.color[1]
    assert len(fig.data[1].x) == 100


@pytest.mark.parametrize("tab", TABS)
def test_every_tab_renders_on_generated_speech(tab):
    at = run_page(PAGE, {"tab": tab})
    assert problems(at) == []
    transcript = next(m.value for m in at.markdown if m.value.startswith("**Transcript**"))
    assert "lazy dog" in transcript and "information between tokens" in transcript
    assert any("robotic" in c.value for c in at.caption)


def test_empty_text_and_bad_link_get_messages():
    at = run_page(PAGE, {"say": " "})
    assert not at.exception and "empty" in " ".join(w.value for w in at.warning)
    at = run_page(PAGE, {"tab": "Nonsense"})
    assert not at.exception and "Nonsense" in " ".join(w.value for w in at.warning)
