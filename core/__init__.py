"""Transformer Atlas engine: torch/numpy maths and the model and tokenizer registries.

Importable without Streamlit, so a notebook gets the same numbers the pages show::

    import core
    res = core.models.run("smollm2-135m", "The capital of France is")
    core.attention.head_weights(res, layer=3, head=0)

Submodules load lazily (``core.models`` imports torch and transformers only when first used).
"""
from importlib import import_module

__all__ = [
    "attention", "device", "errors", "generation", "limits", "models", "paths", "positional",
    "tokenizers",
]


def __getattr__(name: str):
    if name.startswith("_"):
        raise AttributeError(name)
    try:
        return import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"{__name__}.{name}":
            raise AttributeError(f"module 'core' has no attribute {name!r}") from None
        raise
