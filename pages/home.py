"""Home: one sentence through a real transformer (SmolLM2-135M or Gemma 3 270M), stage by stage."""
import streamlit as st

st.title("One sentence through the transformer")   # painted before torch is imported (issue #16)

from core.figures import model_map  # noqa: E402 - none of these imports torch
from core.runtime import describe, limits, registry, warmup
from core.runtime.architecture import LOCAL
from pages.ui import guard, model_picker, show_figure, url_select, url_slider, url_text
from pages.ui import home_sections as sections
from pages.ui.export import follow_click

MODEL = model_picker("model", kinds=("causal",), default=registry.DEFAULT_CAUSAL)
text = url_text("Your sentence", "text", "The capital of France is",
                help=f"Up to {limits.current().max_text_chars:,} characters.")
arch = None
with guard("the model"):
    arch = describe.architecture(MODEL)      # stored by the adapter at prepare time: no torch yet
    dec = arch.stacks[-1]
    lay, n_local = dec.layout, dec.layer_types.count(LOCAL)
    st.write(f"Type a sentence. Every number below comes from one forward pass of the real **{MODEL}** "
             f"({dec.n_layers} layers, {lay.n_heads} query heads sharing {lay.n_kv_heads} key/value "
             + ("head" if lay.n_kv_heads == 1 else "heads") + (f"; {n_local} local sliding-window layers of {dec.window:,} keys, "
                        f"{dec.n_layers - n_local} global" if n_local else "") + "), running here.")
if arch is None:              # refused above, with its message
    st.stop()

with guard("the model map"):
    st.subheader("The whole model, one map")
    others = [n for n, s in {**registry.BUNDLED, **registry.SPEECH}.items() if s.kind != "causal"]
    shown = url_select("Map of", [MODEL] + others, "map", MODEL, radio=True,
                       help="The same diagram for every family, drawn from its adapter's description.")
    shown_arch = arch if shown == MODEL else describe.architecture(shown)
    n_map = describe.n_tokens(shown, text)
    fig = model_map.model_map(shown_arch, n_map)
    picked = show_figure(fig, "home-model-map", data=model_map.shapes_table(shown_arch, n_map), on_select=True,
                         title=f"{shown}: the whole model for a {n_map}-token input",
                         summary=f"{shown} for your {n_map} tokens: every arrow carries the shape of the tensor on "
                                 "it (pos, d_model); under attention, the queries, keys/values and weights as "
                                 "(head, pos, d_head). Click a box, or a layer in the strip, to open the page that "
                                 "explains it.")
    follow_click(fig, picked, sections.LINKS)

warmup.import_engine()       # under the lock the background warm-up holds (core/runtime/warmup.py)

from core.attention import defaults as head_defaults  # noqa: E402
from core.text import token_labels  # noqa: E402
from core.text.pipeline import walkthrough  # noqa: E402
from pages.ui.engine import load_model  # noqa: E402


@st.cache_resource(show_spinner="Running the model…", max_entries=4)
def cached_pass(name: str, text: str):
    """The forward pass and every stage that doesn't depend on the layer; shared read-only."""
    return walkthrough(name, text, layer=0, head=0)


@st.cache_resource(show_spinner=False, max_entries=16)
def cached_walkthrough(name: str, text: str, layer: int, head: int):
    """A new layer or head reuses the pass: one head's weights, not a forward pass (issue #17)."""
    return walkthrough(name, text, layer=layer, head=head, base=cached_pass(name, text))


with guard("the walkthrough"):
    ad = load_model(MODEL).adapter
    previous_head = head_defaults.previous_token_head(MODEL, dec.n_layers, lay.n_heads)
    c1, c2 = st.columns(2)
    with c1:
        layer = url_slider("Layer (stages 4 and 5)", "layer", 0, dec.n_layers - 1, previous_head[0],
                           help=f"Opens on layer {previous_head[0]} head {previous_head[1]}, a previous-token head "
                                "measured on this model.")
    with c2:
        head = url_slider("Head", "head", 0, lay.n_heads - 1, previous_head[1])
    w = cached_walkthrough(MODEL, text, layer, head)
    shown_toks = token_labels.labels(w.result.tokens, pieces=w.result.pieces, html=True)   # · spaces, ⟨0xE6⟩ bytes
    sections.tokens(w, text)
    sections.embeddings(w, shown_toks, dec.d_model)
    sections.positions(w, shown_toks, MODEL)
    sections.attention(w, shown_toks, layer, head, ad.layer_label(layer), previous_head)
    sections.feed_forward(w, layer, MODEL)
    sections.residual(w)
    sections.lens_and_next(w)
