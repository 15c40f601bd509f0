"""Readable charts: round tick steps on second y axes and colour bars (drawn by plotly.js in
Chromium, where the ticks are chosen), labels that neither overlap nor leave the plot, mask panels
whose row labels stay out of their neighbours, and image thumbnails on the CLIP matrix that
survive the PNG export."""
import base64
import io
import math
import os

import numpy as np
import plotly.graph_objects as go
import pytest
from PIL import Image

from core.figures import attention as att
from core.figures import axes
from core.figures import embeddings as emb_figs
from core.figures import vision as vis

TOKENS = [f" tok{i}" for i in range(20)]


def next_token_figure() -> go.Figure:
    """The causal page's dual-axis chart with a top token at p = 0.86: plotly's synced ticks put
    the 0-1.05 cumulative axis at the primary's 0 / 0.2 / ... grid, so it read 0 / 0.216 / 0.432 / 0.648."""
    raw = np.r_[0.86, np.full(19, 0.14 / 19)]
    return att.next_token_bars(TOKENS, raw, raw, 0, np.cumsum(raw), 0.9)


def nice_step(d: float) -> bool:
    m = d / 10 ** math.floor(math.log10(d))
    return any(abs(m - n) < 1e-6 for n in (1, 2, 2.5, 5, 10))


def test_second_axes_get_their_own_ticks():
    fig = next_token_figure()
    assert fig.layout.yaxis2.overlaying == "y"
    assert fig.layout.yaxis2.tickmode == "auto"          # plotly.js would default it to "sync"
    explicit = go.Figure(layout={"yaxis2": {"overlaying": "y", "tickvals": [0, 1]}})
    assert axes.readable_secondary_axes(explicit).layout.yaxis2.tickmode is None


# --------------------------------------------------------------------------- in Chromium

TICKS_JS = """() => {
  const out = {};
  document.querySelectorAll('.js-plotly-plot text').forEach(t => {
    const cls = t.parentNode.getAttribute('class') || '';
    if (!/tick$/.test(cls) || /^x/.test(cls)) return;      // y, y2 and colour-bar ticks
    (out[cls] = out[cls] || []).push(t.textContent);
  });
  return out;
}"""


@pytest.fixture(scope="module")
def page():
    pytest.importorskip("playwright")
    from tests.browser_util import CHROMIUM, browser
    if not os.path.exists(CHROMIUM):
        pytest.skip("no Chromium")
    with browser() as b:
        p = b.new_page(viewport={"width": 1280, "height": 720})
        yield p
        p.close()


def drawn_ticks(page, fig: go.Figure) -> dict[str, list[str]]:
    page.set_content(fig.to_html(include_plotlyjs=True, full_html=True))
    page.wait_for_selector(".js-plotly-plot .main-svg", state="attached")
    page.wait_for_timeout(300)
    return page.evaluate(TICKS_JS)


def values(labels: list[str]) -> list[float]:
    return [float(t.replace("\u2212", "-")) for t in labels]


def test_dual_axis_ticks_are_round_in_chromium(page):
    ticks = drawn_ticks(page, next_token_figure())
    assert set(ticks) >= {"ytick", "y2tick"}, ticks
    for name in ("ytick", "y2tick"):
        v = values(ticks[name])
        steps = {round(b - a, 9) for a, b in zip(v, v[1:])}
        assert len(v) >= 3 and all(nice_step(s) for s in steps), f"{name}: {ticks[name]}"


def test_bpe_progress_axes_read_in_powers_and_round_steps_in_chromium(page):
    """The tokenization page's BPE chart: a log pair-count axis and a second (vocabulary) axis."""
    from core.figures import text as text_figs
    steps = list(range(1, 301))
    fig = text_figs.bpe_progress(steps, [int(5000 / s ** 0.8) + 2 for s in steps], [60000 - 40 * s for s in steps],
                                 [90 + s for s in steps], current=150)
    ticks = drawn_ticks(page, fig)
    assert set(ticks) >= {"ytick", "y2tick", "y3tick"}, ticks
    log_labels = [t for t in ticks["ytick"] if t]
    assert all(t.startswith("10") for t in log_labels), log_labels       # 10², 10³: no "2 5 1000 2 5"
    v = values([t.replace(",", "") for t in ticks["y3tick"]])
    assert len(v) >= 3 and all(nice_step(round(b - a, 9)) for a, b in zip(v, v[1:])), ticks["y3tick"]


@pytest.mark.parametrize("build", [
    lambda: emb_figs.cosine_matrices({"a": np.array([[1, 0.46], [0.46, 1]]), "b": np.array([[1, 0.89], [0.89, 1]])},
                                     ["S1", "S2"]),
    lambda: vis.overlay(np.full((32, 32, 3), 0.5), np.linspace(-0.037, 0.081, 16).reshape(4, 4), label="Δ cosine"),
    lambda: att.panels({"scores": np.array([[4.69, -0.61], [8.2, 2.52]])}, ["a", "b"], kind="value"),
], ids=["cosine", "overlay", "scores"])
def test_colour_bar_ticks_are_round_in_chromium(page, build):
    ticks = drawn_ticks(page, build())
    bars = [k for k in ticks if k.startswith("ycb")]
    assert bars, ticks
    v = values(ticks[bars[0]])
    assert len(v) >= 3 and all(nice_step(round(b - a, 9)) for a, b in zip(v, v[1:])), ticks[bars[0]]


def test_boolean_mask_bar_says_allowed_and_blocked(page):
    m = np.tril(np.ones((4, 4), bool))
    ticks = drawn_ticks(page, att.panels({"causal": m, "padding": m}, list("abcd"), kind="allowed", zrange=(0, 1)))
    bar = next(v for k, v in ticks.items() if k.startswith("ycb"))
    assert bar == ["0 blocked", "1 allowed"]


# --------------------------------------------------------------------------- labels

def overlaps(xs, ys, texts, positions, width_px, height_px, pad):
    (x0, x1), (y0, y1) = axes.padded_range(xs, pad), axes.padded_range(ys, pad)
    px, py = (xs - x0) / (x1 - x0) * width_px, (ys - y0) / (y1 - y0) * height_px
    rects = []
    for a, b, t, p in zip(px, py, texts, positions):
        if p is None:
            continue
        w = max(len(s) for s in t.split("<br>")) * axes.CHAR_PX
        rects.append(axes._box(a, b, w, axes.LINE_PX * (t.count("<br>") + 1), p))
    hit = lambda r, s: r[0] < s[2] and s[0] < r[2] and r[1] < s[3] and s[1] < r[3]
    return sum(hit(r, s) for i, r in enumerate(rects) for s in rects[i + 1:])


def test_place_labels_keeps_the_first_and_never_overlaps():
    rng = np.random.default_rng(0)
    xs, ys = rng.normal(size=80), rng.normal(size=80)
    texts = [f"word{i}" for i in range(80)]
    keep = np.arange(80) < 5
    pos = axes.place_labels(xs, ys, texts, keep=keep)
    assert all(pos[i] for i in range(5))
    assert 10 < sum(p is not None for p in pos) < 80          # some drawn, the crowded rest on hover
    shown = [p if not k else None for p, k in zip(pos, keep)]  # the free ones: no overlap at all
    assert overlaps(xs, ys, texts, shown, 760, 440, 0.0) == 0


def test_word_map_labels_do_not_overlap_on_the_default_map():
    from core.text import glove
    words = glove.parse_words("king, queen, man, woman, paris, france, berlin, germany, apple, banana")
    p = glove.project(glove.with_neighbours(words, 5), "pca", 2)
    fig = emb_figs.word_map(p.words, p.coords, highlight=words)
    tr = fig.data[0]
    pos = [q if t else None for q, t in zip(tr.textposition, tr.text)]
    assert all(t for w, t in zip(p.words, tr.text) if w in words)          # every typed word labelled
    assert sum(bool(t) for t in tr.text) >= 0.6 * len(p.words)
    assert overlaps(p.coords[:, 0], p.coords[:, 1], list(p.words), pos, 760, 440, 0.06) == 0
    assert list(tr.customdata) == list(p.words)                             # hover names every point


def test_joint_map_labels_stay_inside_and_apart():
    rng = np.random.default_rng(1)
    coords = rng.normal(size=(9, 2))
    labels = [f"synthetic scene {i}" for i in range(4)] + [
        "a small purple square and a large purple square", "a red circle on the left",
        "a yellow triangle and a purple star", "a small red cross at the top", "a green diamond"]
    fig = vis.joint_scatter(coords, 4, labels, explained=[0.5, 0.3])
    texts = list(fig.data[0].text) + list(fig.data[1].text)
    pos = list(fig.data[0].textposition) + list(fig.data[1].textposition)
    assert all(len(line) <= 22 for t in texts for line in t.split("<br>"))
    assert "purple square" in texts[4]                                      # wrapped, not cut to 28 chars
    assert fig.layout.xaxis.range[0] < coords[:, 0].min() and fig.layout.xaxis.range[1] > coords[:, 0].max()
    assert overlaps(coords[:, 0], coords[:, 1], texts, pos, 700, 380, 0.12) == 0


def test_mask_panels_label_rows_once_or_leave_room():
    m = np.tril(np.ones((6, 6), bool))
    toks = ["A", " cat", " sat", "<|im_end|>", "<|im_end|>", "<|im_end|>"]
    shared = att.panels({"a": m, "b": m, "c": m}, toks)
    assert [shared.layout[f"yaxis{s}"].showticklabels for s in ("", "2", "3")] == [True, False, False]
    own = att.panels({"a": m, "b": m}, {"a": toks, "b": ["x", "y", "z", "w", "v", "u"]})
    gap = own.layout.xaxis2.domain[0] - own.layout.xaxis.domain[1]
    assert gap * 820 >= len("3:<|im_end|>") * axes.CHAR_PX                  # the longest row label fits
    assert own.layout.yaxis2.showticklabels in (None, True)


# --------------------------------------------------------------------------- CLIP thumbnails

def test_similarity_matrix_carries_thumbnails_of_the_images():
    red = np.zeros((200, 300, 3))
    red[..., 0] = 1
    blue = np.zeros((50, 50, 3))
    blue[..., 2] = 1
    fig = vis.similarity_matrix(np.array([[0.9, 0.1], [0.2, 0.8]]), ["red", "blue"], ["t1", "t2"],
                                thumbnails=[red, blue])
    imgs = fig.layout.images
    assert len(imgs) == 2 and all(i.source.startswith("data:image/png;base64,") for i in imgs)
    first = Image.open(io.BytesIO(base64.b64decode(imgs[0].source.split(",", 1)[1])))
    assert max(first.size) == vis.THUMB_PX and np.asarray(first)[..., 0].mean() > 250   # red, shrunk
    assert [i.y for i in imgs] == list(fig.data[0].y)                       # beside its own row
    assert vis.similarity_matrix(np.eye(2), ["a", "b"], ["t1", "t2"]).layout.images == ()


def test_thumbnails_are_in_the_exported_png():
    from core.figures import export
    if export._chromium() is None:
        pytest.skip("no Chromium for kaleido")
    red = np.zeros((64, 64, 3))
    red[..., 0] = 1
    sim = np.array([[0.9, 0.1], [0.2, 0.8]])
    with_thumbs = vis.similarity_matrix(sim, ["a", "b"], ["t1", "t2"], thumbnails=[red, red])
    png = np.asarray(Image.open(io.BytesIO(export.to_bytes(with_thumbs, "png", scale=1.0))).convert("RGB")).astype(int)
    plain = np.asarray(Image.open(io.BytesIO(export.to_bytes(vis.similarity_matrix(sim, ["a", "b"], ["t1", "t2"]),
                                                             "png", scale=1.0))).convert("RGB")).astype(int)
    is_red = lambda a: ((a[..., 0] > 200) & (a[..., 1] < 60) & (a[..., 2] < 60)).sum()
    assert is_red(png) > 2 * 40 * 40 and is_red(plain) < 50
