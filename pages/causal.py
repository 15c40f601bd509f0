"""Causal masks & generation: the mask tensors, one real head through them, teacher forcing, sampling."""
import numpy as np
import pandas as pd
import streamlit as st

from core.attention import heads as attention
from core.text import generation
from core.runtime import models
from core.runtime.errors import InputError
from core.figures import attention as figs
from core.figures import basic
from pages.ui import guard, model_picker, show_figure, show_table, url_number, url_slider, url_text
from pages.ui.engine import load_model, run_model
from pages.ui.tokens import show_pills

ENCODER = models.DEFAULT_ENCODER


@st.cache_resource(max_entries=8, show_spinner="Generating token by token…")
def generate(name: str, prompt: str, temperature: float, top_k: int, top_p: float, seed: int, n_new: int):
    cfg = generation.SamplingConfig(temperature, top_k or None, top_p, seed, n_new)
    return generation.generate_steps(name, prompt, cfg)


st.title("Causal masks & generation")
CAUSAL = model_picker("model", kinds=("causal",), default=models.DEFAULT_CAUSAL)
st.write(f"A decoder such as **{CAUSAL}** may only look left: a mask sets every score for a future "
         "key to −∞ before the softmax, so its weight is exactly 0. That is what lets one forward pass "
         "train on every position at once, and what generation repeats one token at a time.")
text = url_text("Sentence", "sentence", "The cat sat on the mat", help="Short is best: every cell is drawn.")
short = url_text("A shorter sentence, padded into the same batch", "short", "A cat sat")

with guard("the masks"):
    batch = attention.padded_batch(CAUSAL, [text, short])
    if batch.attention_mask.shape[1] > 48:
        raise InputError("This view draws every cell: keep both sentences to 48 tokens or fewer "
                                   f"(they pad to {batch.attention_mask.shape[1]}). The Attention page handles long inputs.")
    st.header("1 · The masks")
    pad_toks = batch.tokens[1]
    masks = {"causal: key j ≤ query i": batch.causal.numpy(), "padding: key is a real token": batch.padding[1].numpy(),
             "combined: causal AND padding": batch.combined[1].numpy()}
    show_figure(figs.panels(masks, pad_toks, kind="allowed", zrange=(0, 1)), "causal-masks",
                data=pd.DataFrame({k: v.ravel() for k, v in masks.items()}),
                summary=f"The shorter sentence is padded with {int((batch.attention_mask[1] == 0).sum())} "
                        f"'{pad_toks[-1]}' tokens; the combined mask allows {int(batch.combined[1].sum())} of "
                        f"{batch.combined[1].numel()} query-key pairs (1 = allowed).")

with guard("one head through the mask"):
    res = run_model(CAUSAL, text)
    cfg = load_model(CAUSAL).config
    st.header("2 · The same scores, before and after the mask")
    c1, c2 = st.columns(2)
    with c1:
        layer = url_slider("Layer", "mask_layer", 0, res.n_layers - 1, 3)
    with c2:
        head = url_slider("Head", "mask_head", 0, cfg.num_attention_heads - 1, 0)
    mh = attention.masked_head(res, layer, head)
    mats = {"scores q·kᵀ/√d": mh.scores.numpy(), "masked: −∞ above diagonal": mh.masked.numpy(),
            "softmax: weights": mh.weights.numpy()}
    show_figure(figs.panels(mats, res.tokens, kind="value"), "causal-scores-masked",
                data=pd.DataFrame({k: v.ravel() for k, v in mats.items()}),
                summary=f"Layer {layer} head {head}: the mask tensor drawn in the middle is the one the "
                        f"softmax used; after it, row 1 puts {mh.weights[1, 0]:.0%} on “{res.tokens[0]}”.")
    st.caption("Some texts fill masked scores with −1e9, others with −∞. For these rows the weights are "
               "identical (exp(−1e9) is 0 in float32), but a row whose keys are all masked (a padding query) "
               "gives 0/0 = NaN with −∞; libraries use the dtype's most negative number instead.")

    st.header("3 · Bidirectional vs causal, same sentence")
    enc = run_model(ENCODER, text)
    e_layer, e_head = min(layer, enc.n_layers - 1), min(head, load_model(ENCODER).config.num_attention_heads - 1)
    we, wc = attention.head_weights(enc, e_layer, e_head), mh.weights
    ue, uc = attention.above_diagonal(we), attention.above_diagonal(wc)
    pair = {f"MiniLM (bidirectional) L{e_layer} H{e_head}": (we, enc.tokens, ue),
            f"{CAUSAL} (causal) L{layer} H{head}": (wc, res.tokens, uc)}
    show_figure(figs.panels({k: v[0].numpy() for k, v in pair.items()}, {k: v[1] for k, v in pair.items()},
                            zrange=(0, 1)), "causal-bidirectional-vs-causal",
                data=pd.concat([pd.DataFrame(v[0].numpy(), columns=figs.labels(v[1])).assign(model=k)
                               for k, v in pair.items()]),
                summary=" · ".join(f"{k}: {u['nonzero']} of {u['cells']} cells above the diagonal non-zero, "
                                   f"max {u['max']:.3g}" for k, (_, _, u) in pair.items()))
    st.success(f"{CAUSAL}'s upper triangle is exactly zero (max {uc['max']!r}, {uc['nonzero']} non-zero cells); "
               f"MiniLM sends {ue['mass_per_row']:.0%} of each row's attention to later tokens on average.")

    st.header("4 · Teacher forcing: every position predicts its next token in one pass")
    tf = generation.teacher_forcing(res)
    show_figure(basic.bars([f"{t}→{a}" for t, a in zip(tf["context ends with"], tf["actual next"])],
                           tf["loss (nats)"], x_title="loss −log p(actual next) (nats)"), "causal-teacher-forcing",
                data=tf, summary=f"Mean loss {tf['loss (nats)'].mean():.2f} nats (perplexity "
                                 f"{np.exp(tf['loss (nats)'].mean()):.1f}) over {len(tf)} predictions p(x₂|x₁), "
                                 f"p(x₃|x₁,x₂) …; hardest: “{tf.loc[tf['loss (nats)'].idxmax(), 'actual next']}”.")
    show_table(tf, "causal-teacher-forcing-table")

st.header("5 · Generation, step by step")
prompt = url_text("Prompt", "prompt", "The capital of France is")
c = st.columns(5)
with c[0]:
    temp = url_slider("Temperature", "temperature", 0.0, 2.0, 0.7, step=0.05, help="0 = greedy (argmax).")
with c[1]:
    top_k = url_number("top-k (0 = off)", "top_k", 0, 1000, 0)
with c[2]:
    top_p = url_number("top-p", "top_p", 0.0, 1.0, 0.9, step=0.05, help="Keep the most likely tokens until "
                       "their probability reaches p; must lie in (0, 1], 1 = off.")
with c[3]:
    seed = url_number("Seed", "seed", 0, 2**31 - 1, 0)
with c[4]:
    n_new = url_slider("New tokens", "new", 1, 32, 10)
with guard("generation"):
    shp = attention.head_shape(load_model(CAUSAL).config)
    cfg = load_model(CAUSAL).config
    steps = generate(CAUSAL, prompt, float(temp), int(top_k), float(top_p), int(seed), int(n_new))
    if temp == 0:
        st.info("Temperature 0 = greedy: every step takes the most likely token, so the seed has no effect.")
    st.text(prompt + "".join(s.drawn for s in steps))
    show_pills([s.drawn for s in steps], [s.drawn_id for s in steps])
    step = url_slider("Inspect step", "step", 0, len(steps) - 1, 0)
    s = steps[step]
    show_figure(figs.next_token_bars(s.dist.tokens, s.dist.raw, s.dist.processed,
                                     int(np.flatnonzero(s.dist.ids == s.drawn_id)[0]) if s.drawn_id in s.dist.ids else None,
                                     s.dist.cumulative, top_p if temp > 0 else None), "causal-next-token",
                data=pd.DataFrame({"token": s.dist.tokens, "p_t1": s.dist.raw, "p_sampled": s.dist.processed,
                                   "cumulative": s.dist.cumulative}),
                summary=f"Step {step}: {s.dist.kept:,} tokens survive the controls; drew “{s.drawn}” "
                        f"(p = {s.drawn_p:.2f} after the controls) with seed {seed}.")
    table = generation.steps_table(steps)
    show_figure(basic.lines(table["cached positions"], {
        "measured (past_key_values tensors)": table["KV cache bytes (measured)"] / 1024,
        "formula 2 × KV heads × d_head × 4 B × Σ cached positions per layer": table["KV cache bytes (formula)"] / 1024},
        x_title="tokens in the cache", y_title="KV cache (KiB)"), "causal-kv-cache", data=table,
        summary=f"The KV cache grows by {models.cache_bytes_per_token(CAUSAL) / 1024:.0f} KiB per token "
                f"({cfg.num_hidden_layers} layers × {shp['n_kv_heads']} KV heads × {shp['d_head']} dims × K and V × "
                f"4 bytes); after step {len(steps) - 1} it holds {table.iloc[-1, -2] / 1024:.0f} KiB measured from "
                f"past_key_values, {'equal to' if (table.iloc[:, -2] == table.iloc[:, -1]).all() else 'NOT equal to'} "
                "the formula.")
    show_table(table, "causal-steps")
st.page_link("pages/encoder_decoder.py", label="Encoder–decoder & cross-attention: the other half of the original "
             "Transformer (Whisper, speech to text)", icon=":material/arrow_forward:")
