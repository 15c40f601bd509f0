"""Sparse & linear attention: patterns drawn, executed with flex_attention, measured, applied to
SmolLM2, Gemma 3's own local/global pattern, and linearised attention. Tab bodies:
pages.ui.sparse_tabs (patterns, on SmolLM2) and pages.ui.sparse_models (Gemma 3, linear); maths: core.efficiency; figures: core.figures.efficiency, model_sparsity."""
import streamlit as st

from pages.ui import sparse_models
from pages.ui import sparse_tabs as tabs
from pages.ui import url_tabs

st.title("Sparse & linear attention")
st.write("Full attention scores every (query, key) pair: n² work and memory. A sparse pattern keeps "
         "only some pairs; below, the pattern is drawn, then **executed** with PyTorch's "
         "`flex_attention` (block-sparse, compiled) against dense `scaled_dot_product_attention` "
         "with the same boolean mask, applied to a real model's head, and read from a model that "
         "ships sparsity: Gemma 3's sliding-window layers.")
url_tabs([("Pattern, executed and measured", "the sparse pattern", tabs.pattern_tab),
          ("On SmolLM2", "the pattern on SmolLM2", tabs.model_tab),
          ("In a real model", "Gemma 3's own pattern", sparse_models.gemma_tab),
          ("Linearised attention", "linearised attention", sparse_models.linear_tab)])
