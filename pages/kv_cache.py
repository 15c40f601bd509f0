"""KV cache & MLA: cache bytes from real configs (sliding-window layers included), a real
(random-weight) MLA module measured, and naive vs weight-absorbed MLA over batch x context."""
import streamlit as st

from pages.ui import guard
from pages.ui import kv_sections as sections
from pages.ui import mla_sections

st.title("KV cache & multi-head latent attention")
st.write("While generating, a decoder keeps every past token's keys and values so it never recomputes "
         "them: the **KV cache**. Its size is set by the config: layers, KV heads and head size, or, for "
         "MLA, the latent size; layers with a **sliding window** (Mistral, Gemma 3) keep only the last "
         "window − 1 positions. Numbers below come from the models' published config.json files.")
st.info("**MLA's cache is not constant in sequence length.** A claim that circulates says MLA keeps "
        "memory “constant regardless of sequence length”. The paper that introduced MLA says otherwise "
        "(DeepSeek-AI 2024, *DeepSeek-V2*, arXiv:2405.04434, Sec. 2.1 and Table 1: (d_c + d_h^R) · l elements "
        "per token): MLA caches one compressed latent "
        "c_KV (d_c numbers) and one shared RoPE key (d_h^R numbers) **per token per layer**, so its cache "
        "grows linearly with the context, like MHA's, with a much smaller per-token constant: "
        "(d_c + d_h^R) × layers = (512 + 64) × 61 = 35,136 elements per token for DeepSeek-V3.",
        icon=":material/report:")

with guard("the cache calculator"):
    sections.calculator()

st.header("A real MLA module, measured")
st.warning("The weights below are **random** (seeded): this is DeepSeek-V2's MLA layer as code, to measure "
           "shapes, caches and time — not a trained model, and its outputs mean nothing.",
           icon=":material/casino:")
preset = "small (fast)"
with guard("the MLA decode"):
    preset = mla_sections.mla_decode()

st.header("Naive vs weight-absorbed MLA: where absorbed wins")
with guard("the naive-vs-absorbed measurement"):
    mla_sections.naive_vs_absorbed(preset)
