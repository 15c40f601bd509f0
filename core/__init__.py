"""Transformer Atlas engine: torch/numpy maths and the model and tokenizer registries.

Grouped by concept, one hop from here:

- ``core.runtime``    device, model registry (``models``), architecture adapters, limits, errors, paths
- ``core.text``       tokenizers, BPE, GloVe, word2vec, contextual embeddings, positions, generation
- ``core.attention``  per-head weights, head statistics, rollout, masks, offline bertviz
- ``core.lens``       logit lens, direct logit attribution, ablation, activation patching
- ``core.efficiency`` sparse patterns and flex_attention, linear attention, KV cache, MLA
- ``core.vision``     ViT patches and attention, CLIP, the tiny CLIP trained here
- ``core.scaling``    scaling laws, fitting, the catalogue of real models, the tiny sweep
- ``core.figures``    pure plotly figure builders
- ``core.teaching``   the presenter tour

Importable without Streamlit, so a notebook gets the same numbers the pages show::

    import core
    res = core.run("smollm2-135m", "The capital of France is")   # core.runtime.models.run
    core.attention.head_weights(res, layer=3, head=0)            # (q_pos, k_pos)

Sub-packages load lazily (``core.runtime.models`` imports torch and transformers when first used).
"""
from importlib import import_module

__all__ = ["attention", "efficiency", "figures", "lens", "runtime", "scaling", "teaching", "text",
           "vision", "run", "load"]


def run(name: str, text: str, **kwargs):
    """One forward pass: ``core.runtime.models.run``."""
    return import_module("core.runtime.models").run(name, text, **kwargs)


def load(name: str):
    """The shared, read-only loaded model: ``core.runtime.models.load``."""
    return import_module("core.runtime.models").load(name)


def __getattr__(name: str):
    if name.startswith("_"):
        raise AttributeError(name)
    try:
        return import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"{__name__}.{name}":
            raise AttributeError(f"module 'core' has no attribute {name!r}") from None
        raise
