"""Figure builders and pills without a browser: assert on fig.data / fig.layout / HTML."""
import numpy as np

from core.figures import basic, export, theme
from pages.ui.tokens import pills_html, visible


def test_heatmap_labels_unique_and_reversed():
    fig = basic.heatmap(np.eye(3), x=["a", "a", "b"], y=["a", "a", "b"], zmin=0, zmax=1)
    hm = fig.data[0]
    assert list(hm.x) == ["0:a", "1:a", "2:b"]        # duplicate tokens stay separate columns
    assert fig.layout.yaxis.autorange == "reversed"
    assert hm.colorscale[0][1] != hm.colorscale[-1][1]
    np.testing.assert_array_equal(np.asarray(hm.z), np.eye(3))


def test_bars_highlight_and_palette():
    fig = basic.bars(["x", "y", "z"], [0.5, 0.3, 0.2], highlight=0)
    colours = list(fig.data[0].marker.color)
    assert colours[0] == theme.OKABE_ITO[1] and colours[1] == theme.OKABE_ITO[0]
    assert list(fig.layout.colorway) == theme.OKABE_ITO


def test_lines_log_axes():
    fig = basic.lines([1, 10, 100], {"a": [3, 2, 1]}, log_x=True, log_y=True)
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"


def test_pills_escape_html_and_show_whitespace():
    html = pills_html(["<script>alert(1)</script>", " a\n", "\u202e"], [1, 2, 3], [(0, 25), (25, 28), (28, 29)])
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "·a↵" in html and "\\u202e" in html
    assert visible("") == "∅"


def test_export_html_is_self_contained():
    fig = basic.bars(["a"], [1.0])
    html = export.to_bytes(fig, "html").decode()
    assert 'src="http' not in html and "Plotly.newPlot" in html    # no script loads from a CDN
    assert len(html) > 1_000_000                                        # plotly.js is inlined
