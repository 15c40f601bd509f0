"""Inside the model: the logit lens, direct logit attribution, ablation and activation patching on a
real causal model (SmolLM2-135M or Gemma 3 270M). Tab bodies: pages.ui.inside_tabs; maths:
core.lens; figures: core.figures.lens."""
import streamlit as st

from core.runtime import models
from pages.ui import inside_tabs as tabs
from pages.ui import model_picker, url_tabs

st.title("Inside the model")
st.write("Where does the answer come from? The **logit lens** reads the residual stream at every depth with "
         "the model's own final norm and unembedding (nostalgebraist 2020); **attribution** splits the answer's "
         "logit over every head and MLP (Elhage et al. 2021); **ablation** knocks one out and reruns the rest; "
         "**patching** copies the stream of a clean prompt into a corrupted one, one layer and position at a time "
         "(Meng et al. 2022). Everything is computed from one real forward pass, without hooks.")
name = model_picker("model", kinds=("causal",), default=models.DEFAULT_CAUSAL)
url_tabs([("Logit lens", "the logit lens", lambda: tabs.lens_tab(name)),
          ("Attribution", "the attribution", lambda: tabs.attribution_tab(name)),
          ("Ablation", "the ablation", lambda: tabs.ablation_tab(name)),
          ("Patching", "the activation patching", lambda: tabs.patching_tab(name)),
          ("Compare two prompts", "the comparison", lambda: tabs.compare_tab(name))])
