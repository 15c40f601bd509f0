"""Lenses: how the prediction forms, layer by layer, computed functionally through the adapters
(no hooks, nothing written to the shared model).

- ``logit_lens(result, k=5)``: the final norm and unembedding applied to the stream entering every
  layer (nostalgebraist 2020, "interpreting GPT: the logit lens");
- ``contributions(result, position=-1, target=None)``: direct logit attribution of every head and
  MLP, each norm's scale frozen at its real value (Elhage et al. 2021, "A mathematical framework
  for transformer circuits");
- ``ablate(name, text, layer, head=None, part="attn", how="zero")`` and ``ablation_sweep``;
- ``patch(name, clean, corrupted, target=None)``: activation patching of the residual stream
  (Meng et al. 2022, "Locating and editing factual associations in GPT"; Heimersheim & Nanda 2024);
- ``mlp_neurons(result, layer, position, k=10)``: the gated units that fire most (Geva et al. 2021,
  "Transformer feed-forward layers are key-value memories").
"""
from core.lens.attribution import contributions  # noqa: F401
from core.lens.interventions import Ablation, Patching, ablate, ablation_sweep, patch  # noqa: F401
from core.lens.logit_lens import LogitLens, logit_lens, residual_writes  # noqa: F401
from core.lens.neurons import mlp_neurons  # noqa: F401
