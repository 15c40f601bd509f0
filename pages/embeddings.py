"""Embeddings & positions: GloVe neighbours/analogies/maps, live word2vec, static vs contextual, PE/RoPE.
Each view's body is in pages.ui.embeddings_tabs, word2vec_tab and positions_tab."""
import streamlit as st

from pages.ui import url_select
from pages.ui import embeddings_tabs as tabs
from pages.ui import positions_tab, word2vec_tab

VIEWS = {"static": ("Static vectors (GloVe)", tabs.static_view), "word2vec": ("Train word2vec", word2vec_tab.word2vec_view),
         "contextual": ("Contextual vs static", tabs.contextual_view),
         "positional": ("Positional encodings", positions_tab.positional_view)}

st.title("Embeddings & positions")
view = url_select("View", list(VIEWS), "view", "static", radio=True, format_func=lambda v: VIEWS[v][0])
VIEWS[view][1]()
