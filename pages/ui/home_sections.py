"""Home's stages after the model map: one section per stage of the walkthrough
(core.text.pipeline.walkthrough), each a figure builder and its caption."""
from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from core.figures import attention as attention_figs
from core.figures import basic
from core.figures import pipeline as stages
from core.text import token_labels
from pages.ui import show_figure, url_select, url_toggle
from pages.ui.nav import registered
from pages.ui.tokens import show_pills

LINKS = {p.url_path: p for p in registered()}


def deeper(url_path: str, label: str) -> None:
    if url_path in LINKS:
        st.page_link(LINKS[url_path].file, label=label, icon=":material/arrow_forward:")


def tokens(w, text: str) -> None:
    res = w.result
    st.header("1 · Tokens and ids")
    show_pills(res.tokens, res.ids, res.spans, pieces=res.pieces,
               show_ids=url_toggle("Show token ids", "ids", False, help="Each token's id inline; always on hover."))
    st.caption(f"{res.n_tokens} tokens from {len(text)} characters "
               f"({len(text) / max(1, res.n_tokens):.2f} characters per token). Hover a pill for its id.")
    deeper("tokenization", "Compare seven tokenizers and replay BPE training")


def embeddings(w, shown_toks: list[str], d_model: int) -> None:
    st.header("2 · Embedding vectors")
    show_figure(basic.heatmap(w.embeddings, y=shown_toks, x=None, x_title=f"dimension (of {d_model})",
                              y_title="token", colorscale=basic.SEQUENTIAL, hover="value"),
                "home-embeddings", data=pd.DataFrame(w.embeddings, index=w.result.tokens).reset_index(),
                summary=f"Each row is one token's {d_model}-number embedding, looked up by id; "
                        f"values span {w.embeddings.min():.2f} to {w.embeddings.max():.2f}.")
    deeper("embeddings", "Static vs contextual embeddings, word2vec, GloVe")


def positions(w, shown_toks: list[str], model: str) -> None:
    st.header("3 · Positional information")
    bases = w.rope["rope_theta_by_layer_type"]
    st.write(f"{model} adds no position vector to the embeddings. It uses **RoPE**: inside every "
             f"head, each pair of query/key dimensions is rotated by position × θᵢ, with base "
             f"{w.rope['rope_theta']:,.0f} and head size {w.rope['d_head']} (read from its config)"
             + (" — " + ", ".join(f"{b:,.0f} in {t.replace('_attention', '')} layers" for t, b in bases.items())
                if len(bases) > 1 else "") + ". So q·k depends only on how far apart two tokens are.")
    show_figure(basic.heatmap(w.rope_angles % (2 * math.pi), y=shown_toks,
                              x=[f"pair {i}" for i in range(w.rope_angles.shape[1])],
                              x_title="rotated pair i (fast → slow)", y_title="token position",
                              hover="angle mod 2π (rad)"),
                "home-rope-angles", data=pd.DataFrame(w.rope_angles),
                summary=f"Pair 0 turns {w.rope_angles[1, 0]:.2f} rad per token; the slowest pair turns "
                        f"{w.rope_angles[1, -1]:.2e} rad per token.")
    deeper("embeddings", "Sinusoidal tables and RoPE, interactively")


def head_caption(head_w, toks: list[str], layer: int, head: int, previous_head: tuple[int, int]) -> str:
    """What the head heatmap shows at the last token; names a previous-token head when it is one."""
    last, top = len(toks) - 1, int(head_w[-1].argmax())
    what = f"Layer {layer} head {head}: the last token puts {head_w[-1].max():.0%} of its attention on “{toks[top]}”"
    if last and top == last - 1:
        what += ", the token just before it"
        if (layer, head) == previous_head:
            what += (" — this model's previous-token head (Olsson et al. 2022, *In-context Learning and Induction "
                     "Heads*), measured to be one; the page opens on it")
    elif top == 0 and last:
        what += ", the first token: an attention sink (the Attention page explains it)"
    return what + ". Above the diagonal, grey: the causal mask (weight exactly 0), drawn as on the Attention page."


def attention(w, shown_toks: list[str], layer: int, head: int, label: str, previous_head: tuple[int, int]) -> None:
    toks = w.result.tokens
    st.header(f"4 · One attention head (layer {layer}, {label}; head {head})")
    show_figure(attention_figs.head_heatmap(w.head, toks), "home-attention", data=pd.DataFrame(w.head, columns=toks, index=toks).reset_index(),
                summary=head_caption(w.head, toks, layer, head, previous_head))
    deeper("attention", "Every head, long inputs, bertviz views")


def feed_forward(w, layer: int, model: str) -> None:
    res, mlp = w.result, w.mlp
    toks = res.tokens
    st.header(f"5 · The feed-forward block (layer {layer})")
    st.write(f"After attention, each block's MLP works on every token on its own. {model}'s is gated "
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


def residual(w) -> None:
    res = w.result
    toks = res.tokens
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


def lens_and_next(w) -> None:
    res = w.result
    toks = res.tokens
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
    show_figure(basic.bars(token_labels.labels(w.top_tokens, html=True), w.top_probs, x_title="probability",
                           highlight=0),
                "home-next-token", data=pd.DataFrame({"token": w.top_tokens, "p": w.top_probs}),
                summary=f"Most likely next token: “{w.top_tokens[0]}” with p = {w.top_probs[0]:.2f}.")
    deeper("causal", "Masks, teacher forcing and step-by-step generation")
    deeper("encoder-decoder", "Encoder–decoder & cross-attention: the other half of the original Transformer")
