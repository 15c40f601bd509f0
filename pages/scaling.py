"""Scaling laws: Kaplan and Chinchilla curves, IsoFLOP explorer, budget, real models on the
frontier, vision vs language, fit-your-own-runs and a live tiny sweep. Maths: core.scaling.laws,
core.scaling.fit, core.scaling.catalogue, core.scaling.tiny_sweep; figures: core.figures.scaling;
tab bodies: pages.ui.scaling_tabs (published laws), scaling_models (real models), scaling_runs (runs)."""
import streamlit as st

from core.scaling import laws as scaling
from pages.ui import scaling_models, scaling_runs
from pages.ui import scaling_tabs as sec
from pages.ui import url_select, url_tabs

st.title("Scaling laws")
st.write("How loss falls with parameters N, tokens D and compute C ≈ 6ND — from the published fits "
         "(Kaplan et al. 2020; Hoffmann et al. 2022 and the Epoch AI refit), real models placed on the "
         "compute-optimal frontier, your own runs, and tiny models trained live on this machine.")
fit = url_select("Chinchilla constants (used by every Chinchilla tab)", list(scaling.FITS), "fit", radio=True,
                 format_func=lambda k: scaling.FITS[k].label)

url_tabs([("Kaplan 2020", "the Kaplan laws", sec.kaplan),
          ("Chinchilla & IsoFLOP", "the IsoFLOP explorer", lambda: sec.chinchilla(fit)),
          ("Budget", "the budget", lambda: sec.budget(fit)),
          ("Real models", "the real-model chart", lambda: scaling_models.real_models(fit)),
          ("Vision vs language", "the modality allocations", scaling_models.modalities),
          ("Fit your runs", "the fit of your runs", scaling_runs.fit_runs),
          ("Live tiny sweep", "the tiny sweep", scaling_runs.sweep)])
