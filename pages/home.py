"""Home: one sentence through a real transformer (SmolLM2-135M or Gemma 3 270M), stage by stage."""
import streamlit as st

st.title("One sentence through the transformer")   # painted before torch is imported (issue #16)

from core.runtime import warmup  # noqa: E402

warmup.import_engine()       # under the lock the background warm-up holds (core/runtime/warmup.py)
import pandas as pd  # noqa: E402

from core.runtime import limits
from core.runtime import models
from core.figures import basic
from core.figures import model_map
from core.figures import pipeline as stages
from core.text import token_labels
from core.text.pipeline import walkthrough
from pages.ui import guard, model_picker, show_figure, url_select, url_slider, url_text, url_toggle
from pages.ui.engine import load_model
from pages.ui.export import follow_click
from pages.ui.nav import registered
from pages.ui.tokens import show_pills

LINKS = {p.url_path: p for p in registered()}


@st.cache_resource(show_spinner="Running the model…", max_entries=4)
def cached_pass(name: str, text: str):
    """The forward pass and every stage that doesn't depend on the layer; shared read-only."""
    return walkthrough(name, text, layer=0, head=0)


@st.cache_resource(show_spinner=False, max_entries=16)
def cached_walkthrough(name: str, text: str, layer: int, head: int):
    """A new layer or head reuses the pass: one head's weights, not a forward pass (issue #17)."""
    return walkthrough(name, text, layer=layer, head=head, base=cached_pass(name, text))


def deeper(url_path: str, label: str) -> None:
    if url_path in LINKS:
        st.page_link(LINKS[url_path].file, label=label, icon=":material/arrow_forward:")


MODEL = model_picker("model", kinds=("causal",), default=models.DEFAULT_CAUSAL)
text = url_text("Your sentence", "text", "The capital of France is",
                help=f"Up to {limits.current().max_text_chars:,} characters.")
ad = None
with guard("the model"):
    lm = load_model(MODEL)
    cfg, ad = lm.config, lm.adapter
    n_local = sum(ad.window(i) is not None for i in range(ad.n_layers))
    st.write(f"Type a sentence. Every number below comes from one forward pass of the real **{MODEL}** "
             f"({ad.n_layers} layers, {ad.layout.n_heads} query heads sharing {ad.layout.n_kv_heads} key/value "
             + ("head" if ad.layout.n_kv_heads == 1 else "heads") + (f"; {n_local} local sliding-window layers of {ad.window(0) or ad.window(1):,} keys, "
                        f"{ad.n_layers - n_local} global" if n_local else "") + "), running here.")
if ad is None:                # refused above, with its message
    st.stop()

with guard("the model map"):
    st.subheader("The whole model, one map")
    others = [n for n, s in {**models.BUNDLED, **getattr(models, "SPEECH", {})}.items() if s.kind != "causal"]
    shown = url_select("Map of", [MODEL] + others, "map", MODEL, radio=True,
                       help="The same diagram for every family, drawn from its adapter's description.")
    map_lm = lm if shown == MODEL else load_model(shown)
    n_map = len(models.encode(map_lm, text)["ids"])
    arch = map_lm.adapter.architecture()
    fig = model_map.model_map(arch, n_map)
    picked = show_figure(fig, "home-model-map", data=model_map.shapes_table(arch, n_map), on_select=True,
                         title=f"{shown}: the whole model for a {n_map}-token input",
                         summary=f"{shown} for your {n_map} tokens: every arrow carries the shape of the tensor on "
                                 "it (pos, d_model); under attention, the queries, keys/values and weights as "
                                 "(head, pos, d_head). Click a box, or a layer in the strip, to open the page that "
                                 "explains it.")
    follow_click(fig, picked, LINKS)

with guard("the walkthrough"):
    c1, c2 = st.columns(2)
    with c1:
        layer = url_slider("Layer (stages 4 and 5)", "layer", 0, cfg.num_hidden_layers - 1, 3)
    with c2:
        head = url_slider("Head", "head", 0, cfg.num_attention_heads - 1, 0)
    w = cached_walkthrough(MODEL, text, layer, head)
    res = w.result
    toks = res.tokens
    shown_toks = token_labels.labels(toks, pieces=res.pieces, html=True)   # · for spaces, ⟨0xE6⟩ for bytes

    st.header("1 · Tokens and ids")
    show_pills(toks, res.ids, res.spans, pieces=res.pieces,
               show_ids=url_toggle("Show token ids", "ids", False, help="Each token's id inline; always on hover."))
    st.caption(f"{res.n_tokens} tokens from {len(text)} characters "
               f"({len(text) / max(1, res.n_tokens):.2f} characters per token). Hover a pill for its id.")
    deeper("tokenization", "Compare seven tokenizers and replay BPE training")

    st.header("2 · Embedding vectors")
    show_figure(basic.heatmap(w.embeddings, y=shown_toks, x=None, x_title=f"dimension (of {cfg.hidden_size})",
                              y_title="token", colorscale=basic.SEQUENTIAL, hover="value"),
                "home-embeddings", data=pd.DataFrame(w.embeddings, index=toks).reset_index(),
                summary=f"Each row is one token's {cfg.hidden_size}-number embedding, looked up by id; "
                        f"values span {w.embeddings.min():.2f} to {w.embeddings.max():.2f}.")
    deeper("embeddings", "Static vs contextual embeddings, word2vec, GloVe")

    st.header("3 · Positional information")
    bases = w.rope["rope_theta_by_layer_type"]
    st.write(f"{MODEL} adds no position vector to the embeddings. It uses **RoPE**: inside every "
             f"head, each pair of query/key dimensions is rotated by position × θᵢ, with base "
             f"{w.rope['rope_theta']:,.0f} and head size {w.rope['d_head']} (read from its config)"
             + (" — " + ", ".join(f"{b:,.0f} in {t.replace('_attention', '')} layers" for t, b in bases.items())
                if len(bases) > 1 else "") + ". So q·k depends only on how far apart two tokens are.")
    show_figure(basic.heatmap(w.rope_angles % (2 * 3.141592653589793), y=shown_toks,
                              x=[f"pair {i}" for i in range(w.rope_angles.shape[1])],
                              x_title="rotated pair i (fast → slow)", y_title="token position",
                              hover="angle mod 2π (rad)"),
                "home-rope-angles", data=pd.DataFrame(w.rope_angles),
                summary=f"Pair 0 turns {w.rope_angles[1, 0]:.2f} rad per token; the slowest pair turns "
                        f"{w.rope_angles[1, -1]:.2e} rad per token.")
    deeper("embeddings", "Sinusoidal tables and RoPE, interactively")

    st.header(f"4 · One attention head (layer {layer}, {ad.layer_label(layer)}; head {head})")
    show_figure(basic.heatmap(w.head, x=shown_toks, y=shown_toks, x_title="key (attended to)",
                              y_title="query (attending)", zmin=0, zmax=1, hover="weight"),
                "home-attention", data=pd.DataFrame(w.head, columns=toks, index=toks).reset_index(),
                summary=(f"Layer {layer} head {head}: the last token puts {w.head[-1].max():.0%} of its "
                         f"attention on “{toks[int(w.head[-1].argmax())]}”. Above the diagonal is 0: "
                         "the causal mask."))
    deeper("attention", "Every head, long inputs, bertviz views")

    st.header(f"5 · The feed-forward block (layer {layer})")
    mlp = w.mlp
    st.write(f"After attention, each block's MLP works on every token on its own. {MODEL}'s is gated "
             f"(**{mlp['name']}**): each of its {mlp['d_ff']:,} hidden units computes act = "
             f"{mlp['act']}(gate·x) × (up·x) from the token's vector x, and the down projection adds "
             "act × the unit's own output vector to the stream. Read through the unembedding, that write "
             "says which tokens it raises (a negative act flips it).")
    pos = url_select("Token", range(res.n_tokens), "token", res.n_tokens - 1,
                     format_func=lambda i: f"{i}: {token_labels.label(toks[i], piece=res.pieces[i])}")
    units = w.feed_forward(pos)
    top = units.iloc[0]
    show_figure(stages.neuron_bars(units), "home-feed-forward", data=units,
                summary=f"At “{toks[pos]}”, unit {top.neuron} of layer {layer} fires hardest (largest |act|): "
                        f"act = {mlp['act']}({top.gate:.2f}) × {top.up:.2f} = {top.act:.2f}. "
                        f"Its write raises {top.raises} and lowers {top.lowers}.")
    deeper("inside", "Inside the model: ablate an MLP or a head, and see what changes")

    st.header("6 · The residual stream")
    target, best = w.writes.attrs["target"], w.best_write()
    st.write("Each block adds to a running sum, the residual stream: x ← x + attention(x), then "
             f"x ← x + MLP(x). Here is what every write adds at the last token “{toks[-1]}”: its size, and "
             f"its direct effect on the logit of the predicted “{target}” (the write through the final "
             "norm, its scale frozen, and the unembedding).")
    show_figure(stages.residual_writes(w.writes, target), "home-residual-writes", data=w.writes,
                summary=f"Layer {best.layer}'s {'MLP' if best.part == 'mlp' else 'attention'} write helps "
                        f"“{target}” most: {best.logit:+.2f} to its logit (size {best.norm:.1f}).")
    with st.expander("The stream's size, token by token"):
        norms = w.residual_norms
        show_figure(basic.lines(range(res.n_layers + 1), {t: norms[:, i] for i, t in enumerate(toks)},
                                x_title="layer (0 = embeddings)", y_title="‖residual stream‖"),
                    "home-residual-norms", data=pd.DataFrame(norms, columns=toks),
                    summary=f"The residual stream of “{toks[-1]}” grows from norm {norms[0, -1]:.1f} to "
                            f"{norms[-2, -1]:.1f} through {res.n_layers} blocks; the last point is after "
                            "the final RMSNorm.")
    deeper("inside", "Attribute the prediction to every head and MLP; patch the stream")

    st.header("7 · The logit lens")
    first, final, p_final = w.first_top(), w.final_token, w.strip.iloc[:, -1]
    half = res.n_layers // 2
    st.write("Stop the model after any block and read the stream with its own final norm and unembedding: "
             f"what would it predict after “{toks[-1]}” so far? Each column is one depth.")
    show_figure(stages.lens_strip(w.strip, final, first), "home-logit-lens", data=w.strip,
                summary=f"“{final}” first becomes the top token at depth {first} of {res.n_layers} (blocks "
                        f"applied), with p = {p_final.iloc[first]:.2f}; halfway, at depth {half}, its p was "
                        f"{p_final.iloc[half]:.2g}.")
    deeper("inside", "The logit lens at every position")

    st.header("8 · The next token")
    show_figure(basic.bars(token_labels.labels(w.top_tokens, html=True), w.top_probs, x_title="probability", highlight=0),
                "home-next-token", data=pd.DataFrame({"token": w.top_tokens, "p": w.top_probs}),
                summary=f"Most likely next token: “{w.top_tokens[0]}” with p = {w.top_probs[0]:.2f}.")
    deeper("causal", "Masks, teacher forcing and step-by-step generation")
    deeper("encoder-decoder", "Encoder–decoder & cross-attention: the other half of the original Transformer")
