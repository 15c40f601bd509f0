"""Home: one sentence through a real transformer (SmolLM2-135M or Gemma 3 270M), stage by stage."""
import pandas as pd
import streamlit as st

from core.runtime import limits
from core.runtime import models
from core.figures import basic
from core.text.pipeline import walkthrough
from pages.ui import guard, model_picker, show_figure, url_slider, url_text
from pages.ui.engine import load_model
from pages.ui.nav import registered
from pages.ui.tokens import show_pills

LINKS = {p.url_path: p for p in registered()}


def deeper(url_path: str, label: str) -> None:
    if url_path in LINKS:
        st.page_link(LINKS[url_path].file, label=label, icon=":material/arrow_forward:")


st.title("One sentence through the transformer")
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

with guard("the walkthrough"):
    c1, c2 = st.columns(2)
    with c1:
        layer = url_slider("Layer for the attention head (stage 4)", "layer", 0, cfg.num_hidden_layers - 1, 3)
    with c2:
        head = url_slider("Head", "head", 0, cfg.num_attention_heads - 1, 0)
    w = walkthrough(MODEL, text, layer=layer, head=head)
    res = w.result
    toks = res.tokens

    st.header("1 · Tokens and ids")
    show_pills(toks, res.ids, res.spans)
    st.caption(f"{res.n_tokens} tokens from {len(text)} characters "
               f"({len(text) / max(1, res.n_tokens):.2f} characters per token). Hover a pill for its id.")
    deeper("tokenization", "Compare seven tokenizers and replay BPE training")

    st.header("2 · Embedding vectors")
    show_figure(basic.heatmap(w.embeddings, y=toks, x=None, x_title=f"dimension (of {cfg.hidden_size})",
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
    show_figure(basic.heatmap(w.rope_angles % (2 * 3.141592653589793), y=toks,
                              x=[f"pair {i}" for i in range(w.rope_angles.shape[1])],
                              x_title="rotated pair i (fast → slow)", y_title="token position",
                              hover="angle mod 2π (rad)"),
                "home-rope-angles", data=pd.DataFrame(w.rope_angles),
                summary=f"Pair 0 turns {w.rope_angles[1, 0]:.2f} rad per token; the slowest pair turns "
                        f"{w.rope_angles[1, -1]:.2e} rad per token.")
    deeper("embeddings", "Sinusoidal tables and RoPE, interactively")

    st.header(f"4 · One attention head (layer {layer}, {ad.layer_label(layer)}; head {head})")
    show_figure(basic.heatmap(w.head, x=toks, y=toks, x_title="key (attended to)",
                              y_title="query (attending)", zmin=0, zmax=1, hover="weight"),
                "home-attention", data=pd.DataFrame(w.head, columns=toks, index=toks).reset_index(),
                summary=(f"Layer {layer} head {head}: the last token puts {w.head[-1].max():.0%} of its "
                         f"attention on “{toks[int(w.head[-1].argmax())]}”. Above the diagonal is 0: "
                         "the causal mask."))
    deeper("attention", "Every head, long inputs, bertviz views")

    st.header("5 · The final block's output")
    show_figure(basic.lines(range(res.n_layers + 1), {t: w.residual_norms[:, i] for i, t in enumerate(toks)},
                            x_title="layer (0 = embeddings)", y_title="‖residual stream‖"),
                "home-residual-norms", data=pd.DataFrame(w.residual_norms, columns=toks),
                summary=f"The residual stream of “{toks[-1]}” grows from norm "
                        f"{w.residual_norms[0, -1]:.1f} to {w.residual_norms[-2, -1]:.1f} through {res.n_layers} blocks; "
                        "the last point is after the final RMSNorm.")

    st.header("6 · The next token")
    show_figure(basic.bars(w.top_tokens, w.top_probs, x_title="probability", highlight=0),
                "home-next-token", data=pd.DataFrame({"token": w.top_tokens, "p": w.top_probs}),
                summary=f"Most likely next token: “{w.top_tokens[0]}” with p = {w.top_probs[0]:.2f}.")
    deeper("causal", "Masks, teacher forcing and step-by-step generation")
