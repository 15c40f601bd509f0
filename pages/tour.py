"""Presenter tour: every step as a shareable deep link, and a start button for presentation mode."""
import pandas as pd
import streamlit as st

from pages.ui import show_table
from pages.ui.nav import by_url
from pages.ui.tour import go, steps

st.title("Presenter tour")
st.write("A guided path through the pipeline: tokenization → embeddings → positional encoding → "
         "attention → causal mask → next token, then efficiency, vision and scaling. Each step opens "
         "the real page with a preset input. **Presentation mode** enlarges fonts, hides the app chrome "
         "and adds previous/next controls; every step's address is shareable. It all runs offline "
         "once `make run` has set up.")
all_steps = steps()
c1, c2 = st.columns(2)
if c1.button("Start presentation", type="primary", icon=":material/slideshow:"):
    go(all_steps, 0, present=True)
if c2.button("Start tour without presentation mode"):
    go(all_steps, 0, present=False)

for i, step in enumerate(all_steps):
    st.page_link(by_url(step.url_path).file, label=f"{i + 1}. {step.title}",
                 query_params=step.query(i, present=True), icon=":material/arrow_forward:")
    st.caption(step.explanation)

show_table(pd.DataFrame([{"step": i + 1, "title": s.title, "page": s.url_path, "link": s.link(i)}
                         for i, s in enumerate(all_steps)]), "tour-steps",
           summary=f"{len(all_steps)} steps; each link opens its page in presentation mode with the preset input.")
