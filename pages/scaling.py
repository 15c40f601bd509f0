"""Scaling laws: Kaplan and Chinchilla curves, IsoFLOP explorer, budget, real models on the
frontier, vision vs language, fit-your-own-runs and a live tiny sweep. Maths: core.scaling,
core.scaling_fit, core.scaling_models, core.tiny_sweep; figures: core.figures.scaling."""
import streamlit as st

from core import scaling
from pages import scaling_sections as sec
from pages.ui import guard, url_select

st.title("Scaling laws")
st.write("How loss falls with parameters N, tokens D and compute C ≈ 6ND — from the published fits "
         "(Kaplan et al. 2020; Hoffmann et al. 2022 and the Epoch AI refit), real models placed on the "
         "compute-optimal frontier, your own runs, and tiny models trained live on this machine.")
fit = url_select("Chinchilla constants (used by every Chinchilla tab)", list(scaling.FITS), "fit", radio=True,
                 format_func=lambda k: scaling.FITS[k].label)

tabs = st.tabs(["Kaplan 2020", "Chinchilla & IsoFLOP", "Budget", "Real models", "Vision vs language",
                "Fit your runs", "Live tiny sweep"])
with tabs[0], guard("the Kaplan laws"):
    sec.kaplan()
with tabs[1], guard("the IsoFLOP explorer"):
    sec.chinchilla(fit)
with tabs[2], guard("the budget"):
    sec.budget(fit)
with tabs[3], guard("the real-model chart"):
    sec.real_models(fit)
with tabs[4], guard("the modality allocations"):
    sec.modalities()
with tabs[5], guard("the fit of your runs"):
    sec.fit_runs()
with tabs[6], guard("the tiny sweep"):
    sec.sweep()
