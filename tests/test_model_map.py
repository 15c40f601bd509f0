"""The model map: drawn from each adapter's ``architecture()``, with shapes that are the tensors the
adapter really computes, Gemma 3's local and global layers marked, and a page behind every box."""
import json

import pandas as pd
import pytest
import torch
from transformers import AutoModel, AutoModelForCausalLM, BertConfig, Gemma3TextConfig, LlamaConfig

from core.figures import model_map
from core.runtime import adapters
from pages.ui.nav import PAGES
from tests.apptest_util import problems, run_page

SMALL = dict(vocab_size=97, hidden_size=32, intermediate_size=64, num_attention_heads=4)
N = 7


def _model(cfg, auto):
    torch.manual_seed(0)
    cfg._attn_implementation = "eager"
    return auto.from_config(cfg).eval().requires_grad_(False)


@pytest.fixture(scope="module")
def llama():
    return _model(LlamaConfig(**SMALL, num_hidden_layers=2, num_key_value_heads=2), AutoModelForCausalLM)


@pytest.fixture(scope="module")
def gemma():
    return _model(Gemma3TextConfig(**SMALL, num_hidden_layers=6, num_key_value_heads=1, head_dim=16,
                                   sliding_window=5, layer_types=["sliding_attention"] * 5 + ["full_attention"],
                                   query_pre_attn_scalar=16), AutoModelForCausalLM)


@pytest.fixture(scope="module")
def bert():
    return _model(BertConfig(**SMALL, num_hidden_layers=2), AutoModel)


def _row(table: pd.DataFrame, kind: str) -> pd.Series:
    return table[table["kind"] == kind].iloc[0]


def test_llama_order_and_shapes_match_the_adapter(llama):
    ad = adapters.for_model(llama)
    arch = ad.architecture()
    (stack,) = arch.stacks
    assert [p.kind for p in stack.block] == ["norm", "attention", "add", "norm", "mlp", "add"]
    assert [p.kind for p in stack.head] == ["norm", "unembed", "output"]
    table = model_map.shapes_table(arch, N)
    h = llama.model.embed_tokens(torch.randint(0, 97, (N,)))                 # (pos, d_model)
    q, _, _ = ad.qk(h, 0)
    assert _row(table, "embed").out == f"({N}, {h.shape[1]})"
    inner = _row(table, "attention").inner
    assert f"q {tuple(q.shape)}" in inner                                       # (head, pos, d_head)
    kv = llama.model.layers[0].self_attn.k_proj(h).view(N, -1, ad.layout.d_head).transpose(0, 1)
    assert f"k/v {tuple(kv.shape)}" in inner                                    # GQA: 2 KV heads, not 4
    assert f"weights ({ad.layout.n_heads}, {N}, {N})" in inner
    logits = ad.unembed(ad.final_norm(h))
    assert _row(table, "unembed").out == f"({N}, {logits.shape[1]})"


def test_gemma_marks_local_and_global_layers(gemma):
    arch = adapters.for_model(gemma).architecture()
    (stack,) = arch.stacks
    assert stack.layer_types == ("local",) * 5 + ("global",)
    assert [p.kind for p in stack.block].count("norm") == 4                    # sandwich norms
    fig = model_map.model_map(arch, N)
    layer_trace = fig.data[1]
    assert "local (window 5)" in layer_trace.hovertext[0] and "global" in layer_trace.hovertext[5]
    cell_colours = [s.fillcolor for s in fig.layout.shapes if s.y1 is not None and s.y1 - s.y0 < 0.2]
    assert len(set(cell_colours)) == 2 and len(cell_colours) == 6
    assert any("local (window 5) (5)" in a.text and "global (1)" in a.text for a in fig.layout.annotations)


def test_encoder_is_post_norm_without_head(bert):
    arch = adapters.for_model(bert).architecture()
    (stack,) = arch.stacks
    assert stack.name == "encoder" and set(stack.layer_types) == {"bidirectional"}
    assert [p.kind for p in stack.block] == ["attention", "add", "norm", "mlp", "add", "norm"]
    assert [p.kind for p in stack.head] == ["output"]
    assert model_map._skip_starts(stack.block) == [(0, 1), (3, 4)]            # skips start after the norms


def test_every_arrow_is_labelled_and_every_box_has_a_page(llama):
    arch = adapters.for_model(llama).architecture()
    fig = model_map.model_map(arch, N)
    parts = arch.stacks[0].embed + arch.stacks[0].block + arch.stacks[0].head
    arrows = [a for a in fig.layout.annotations if a.showarrow]
    assert len(arrows) == len(parts) - 1
    shape_labels = [a.text for a in fig.layout.annotations if a.text and a.text.startswith("(")]
    assert len(shape_labels) >= len(parts) - 2
    urls = {p.url_path for p in PAGES}
    for trace in fig.data:
        for target, _ in trace.customdata:
            assert target in urls
    assert list(fig.data[1].customdata[1]) == ["attention", "attn_layer=1"]


def test_a_two_stack_model_draws_two_rows_with_cross_attention(llama):
    """Generic over stacks: an encoder-decoder (as Whisper's adapter describes it) is two rows, the
    decoder's cross-attention reading the encoder's length."""
    base = adapters.for_model(llama).architecture().stacks[0]
    from dataclasses import replace
    enc = replace(base, name="encoder", positions=1500, head=base.head[:1])
    cross = adapters.Part("cross_attention", "cross-attention")
    dec = replace(base, block=base.block[:3] + (base.block[0], cross, adapters.base.ADD) + base.block[3:],
                  reads="encoder")
    arch = adapters.Architecture("whisper-like", (enc, dec))
    table = model_map.shapes_table(arch, N)
    assert _row(table[table["stack"] == "encoder"], "attention").inner.startswith("q (4, 1500, 8)")
    assert "k/v (2, 1500, 8)" in _row(table, "cross_attention").inner
    fig = model_map.model_map(arch, N)
    assert len(fig.data) == 4 and fig.layout.height > 600
    cross = [c for c, h in zip(fig.data[2].customdata, fig.data[2].hovertext) if "cross-attention" in h]
    assert [list(c) for c in cross] == [["encoder-decoder", "tab=Cross-attention"]]


@pytest.mark.parametrize("shown", ["smollm2-135m", "minilm-l6", "whisper-tiny-en"])
def test_home_draws_the_map(shown):
    home = next(p for p in PAGES if p.url_path == "home")
    at = run_page(home, {"map": shown})
    assert problems(at) == []
    specs = [c.proto.spec for c in at.get("plotly_chart")]
    the_map = json.loads(next(s for s in specs if "click: open the page" in s))
    texts = " ".join(a.get("text", "") for a in the_map["layout"]["annotations"])
    layers = {"smollm2-135m": ["× 30 layers"], "minilm-l6": ["× 6 layers"],
              "whisper-tiny-en": ["encoder: × 4 layers", "decoder: × 4 layers", "(80, 3000)"]}[shown]
    assert all(t in texts for t in layers), texts[:300]


def test_exported_map_carries_its_title_and_source(llama):
    from core.figures.export import stamped, to_bytes
    fig = model_map.model_map(adapters.for_model(llama).architecture(), N)
    svg = to_bytes(fig, "svg", title="tiny llama: the whole model", source="Source: Transformer Atlas, /?map=x")
    assert b"tiny llama: the whole model" in svg and b"Source: Transformer Atlas, /?map=x" in svg
    out = stamped(fig, "t", "s")
    assert out.layout.title.text == "t" and fig.layout.title.text is None     # the shown figure is untouched
    assert out.layout.height > fig.layout.height


CLICK_TARGET = """(part) => { const gd = [...document.querySelectorAll('.js-plotly-plot')]
    .find(g => g.data && g.data[0] && (g.data[0].name || '').endsWith('parts'));
  gd.scrollIntoView();
  const i = gd.data[0].hovertext.findIndex(t => t.startsWith('<b>' + part));
  const L = gd._fullLayout, r = gd.getBoundingClientRect();
  return [r.left + L._size.l + L.xaxis.l2p(gd.data[0].x[i]), r.top + L._size.t + L.yaxis.l2p(gd.data[0].y[i])]; }"""


def test_clicking_a_box_in_chromium_opens_its_page():
    """A real click on the map's attention box lands on the attention page, and on the MLP box
    on the Inside page's ablation tab."""
    from tests.browser_util import browser, serve_app, wait_for_page
    with serve_app() as url, browser() as b:
        page = b.new_page(viewport={"width": 1440, "height": 900})
        for part, where in (("attention", "/attention"), ("SwiGLU MLP", "tab=Ablation")):
            page.goto(url, wait_until="domcontentloaded")
            wait_for_page(page)
            page.wait_for_timeout(800)
            x, y = page.evaluate(CLICK_TARGET, part)
            page.mouse.click(x, y)
            page.wait_for_function(f"() => location.href.includes({where!r})", timeout=90_000)
        page.close()
