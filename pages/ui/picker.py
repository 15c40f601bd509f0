"""Model and tokenizer pickers. Bundled models first; a hub id or local folder when not hosted."""
from __future__ import annotations

import streamlit as st

from core.runtime import limits
from core.runtime import registry
from core.text import tokenizers
from pages.ui.state import url_select, url_text

_OTHER = "other…"


def model_picker(key: str = "model", *, kinds: tuple[str, ...] = ("causal", "encoder"),
                 default: str | None = None, label: str = "Model") -> str:
    """Returns a registry name, a local folder or a hub id. Hosted mode: the allowlist only."""
    names = [n for n, s in registry.BUNDLED.items() if s.kind in kinds]
    if limits.hosted():
        names += [n for n in registry.allowlist() if n not in names]
        return url_select(label, names, key, default or names[0],
                          help="Hosted demo: models come from an allowlist only.")
    choice = url_select(label, names + [_OTHER], key, default or names[0],
                        help="Bundled models run offline. 'other…' takes a Hugging Face hub id "
                             "(needs the network) or a local model folder.")
    if choice != _OTHER:
        return choice
    custom = url_text("Hub id or local folder", f"{key}_custom", "",
                      placeholder="e.g. HuggingFaceTB/SmolLM2-360M or /path/to/model",
                      help="Loaded with trust_remote_code=False. Hub ids need HF_HUB_OFFLINE unset.")
    return custom.strip() or (default or names[0])


def tokenizer_picker(key: str = "tokenizer", default: str = "gpt2", label: str = "Tokenizer") -> str:
    return url_select(label, tokenizers.available(), key, default,
                      format_func=lambda n: tokenizers.info(n).label)


def describe_model(name: str) -> None:
    """One caption line: what is loaded and where it came from."""
    from core.runtime import models          # torch: the pickers themselves paint before it
    spec, _ = models.resolve(name)
    st.caption(f"**{spec.name}** — {spec.origin}" + (f" Trained on: {spec.trained_on}." if spec.trained_on else ""))
