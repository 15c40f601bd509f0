"""The home page's later stages: the pure builders of core.figures.pipeline (asserted on fig.data and
fig.layout, no browser), and the walkthrough pieces they draw, on the bundled SmolLM2."""
import numpy as np
import pandas as pd
import pytest

from core import lens
from core.figures import pipeline as stages
from core.figures.theme import OKABE_ITO
from core.runtime import models
from core.text.pipeline import gated_mlp, walkthrough

SMOL, TEXT = "smollm2-135m", "The capital of France is"


def _units() -> pd.DataFrame:
    return pd.DataFrame({"neuron": [7, 3], "gate": [1.5, -0.2], "up": [2.0, 4.0], "act": [2.5, -0.4],
                         "raises": ["'<b>' ' Paris'", "' a'"], "lowers": ["' x'", "'&'"]})


def test_neuron_bars_colour_by_sign_and_escape_tokens():
    fig = stages.neuron_bars(_units())
    bar = fig.data[0]
    assert list(bar.y) == ["neuron 7", "neuron 3"] and bar.orientation == "h"
    assert list(bar.marker.color) == [OKABE_ITO[0], OKABE_ITO[3]]           # positive, negative act
    assert bar.text[0] == "↑ '&lt;b&gt;' ' Paris'" and "<b>" not in "".join(bar.text)
    assert bar.customdata[1][3] == "'&amp;'" and "act_fn(gate)·up" in bar.hovertemplate
    lo, hi = fig.layout.xaxis.range
    assert lo < -0.4 and hi > 2.5                                            # room for the token text
    assert fig.layout.yaxis.autorange == "reversed"


def test_residual_writes_two_panels_grouped_by_part():
    writes = pd.DataFrame({"layer": [0, 0, 1, 1, 2, 2], "part": ["attn", "mlp"] * 3,
                           "norm": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "logit": [0.1, -0.2, 0.3, 1.5, -0.5, 0.2]})
    fig = stages.residual_writes(writes, " <Paris>")
    assert [t.name for t in fig.data] == ["attention", "attention", "MLP", "MLP"]
    assert [t.showlegend for t in fig.data] == [True, False, True, False]
    assert [t.yaxis for t in fig.data] == ["y", "y2", "y", "y2"]
    assert list(fig.data[3].y) == [-0.2, 1.5, 0.2] and list(fig.data[2].x) == [0, 1, 2]
    assert fig.layout.barmode == "group" and fig.layout.yaxis2.title.text == "logit"
    assert "“·&lt;Paris&gt;”" in fig.layout.annotations[1].text


def test_lens_strip_columns_by_depth_and_the_first_box():
    strip = pd.DataFrame({"row": [0, 1, 2, 3], "top token": ["is", " the", " Paris", " Paris"],
                          "p": [1.0, 0.2, 0.4, 0.8], "p( Paris)": [0.0, 0.01, 0.4, 0.8]})
    fig = stages.lens_strip(strip, " Paris", first=2)
    hm = fig.data[0]
    assert list(hm.x) == ["0:is", "1:·the", "2:·Paris", "3:·Paris"]
    assert list(hm.y) == ["top token", "“·Paris”"] and (hm.zmin, hm.zmax) == (0, 1)
    np.testing.assert_array_equal(np.asarray(hm.z), [[1.0, 0.2, 0.4, 0.8], [0.0, 0.01, 0.4, 0.8]])
    box = fig.layout.shapes[0]
    assert (box.x0, box.x1) == (1.5, 2.5) and box.line.color == OKABE_ITO[3]


def test_gated_mlp_names_the_family():
    assert gated_mlp(models.load(SMOL).config) == {"act": "silu", "name": "SwiGLU", "d_ff": 1536}


@pytest.fixture(scope="module")
def smol():
    return walkthrough(SMOL, TEXT, layer=5, head=0)


def test_walkthrough_lens_reads_the_last_position_of_the_full_pass(smol):
    full = lens.logit_lens(smol.result, k=1)
    pd.testing.assert_frame_equal(smol.strip, full.top_at(-1))
    assert smol.final_token == " Paris"
    assert smol.first_top() == 30 and smol.strip["top token"].iloc[30] == " Paris"


def test_walkthrough_best_write_and_feed_forward_signs(smol):
    best = smol.best_write()
    assert best.logit == smol.writes.logit.max() and smol.writes.attrs["target"] == " Paris"
    units = smol.feed_forward(3)
    assert len(units) == 10 and (units.act.abs().diff().dropna() <= 0).all()     # largest |act| first
    assert (units.raises == units.promotes).all() and (units.lowers == units.suppresses).all()
    assert (units.act < 0).any() and (units.act > 0).any()
