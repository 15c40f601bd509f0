"""Named KV configs: published models' config.json numbers, and the bundled models read live.

Preset numbers are copied from each model's published config.json (Hugging Face hub, the
repository named in ``source``); parameter counts are the published ones, as stated per preset.
The bundled models' presets are read from their own loaded config (core.runtime.models), their
parameters counted from the loaded tensors.
"""
from __future__ import annotations

from dataclasses import replace

from core.efficiency.kv_config import KVConfig
from core.efficiency.kv_config_json import from_hf_dict
from core.runtime import models


def _hf(repo: str) -> str:
    return f"config.json of {repo} on the Hugging Face hub"


_PRESETS = [
    KVConfig("GPT-2 small", 12, 12, 12, 64, 768, n_params=124_439_808,
             params_source="counted from the config's shapes (124M published)", source=_hf("openai-community/gpt2")),
    KVConfig("GPT-2 XL", 48, 25, 25, 64, 1600, n_params=1_557_611_200,
             params_source="counted from the config's shapes (1.5B published)", source=_hf("openai-community/gpt2-xl")),
    KVConfig("Llama-2-7B", 32, 32, 32, 128, 4096, n_params=6_738_415_616,
             params_source="counted from the config's shapes (7B published)", source=_hf("meta-llama/Llama-2-7b-hf")),
    KVConfig("Llama-2-70B", 80, 64, 8, 128, 8192, n_params=68_976_648_192,
             params_source="counted from the config's shapes (70B published)", source=_hf("meta-llama/Llama-2-70b-hf")),
    KVConfig("Llama-3-8B", 32, 32, 8, 128, 4096, n_params=8_030_261_248,
             params_source="counted from the config's shapes (8B published)", source=_hf("meta-llama/Meta-Llama-3-8B")),
    KVConfig("Llama-3-70B", 80, 64, 8, 128, 8192, n_params=70_553_706_496,
             params_source="counted from the config's shapes (70B published)", source=_hf("meta-llama/Meta-Llama-3-70B")),
    KVConfig("Llama-3.1-405B", 126, 128, 8, 128, 16384, n_params=405_853_388_800,
             params_source="counted from the config's shapes (405B published)", source=_hf("meta-llama/Llama-3.1-405B")),
    KVConfig("Mistral-7B", 32, 32, 8, 128, 4096, n_params=7_241_732_096,
             params_source="counted from the config's shapes (7.3B published)", sliding_window=4096,
             source=_hf("mistralai/Mistral-7B-v0.1") + " (sliding_window: 4096, every layer)"),
    KVConfig("Qwen2.5-7B", 28, 28, 4, 128, 3584, n_params=7.61e9,
             params_source="published (model card: 7.61B)", source=_hf("Qwen/Qwen2.5-7B")),
    KVConfig("Qwen2.5-72B", 80, 64, 8, 128, 8192, n_params=72.7e9,
             params_source="published (model card: 72.7B)", source=_hf("Qwen/Qwen2.5-72B")),
    KVConfig("Falcon-7B", 32, 71, 1, 64, 4544, n_params=7.22e9,
             params_source="published (7B; 7.22B counted)", source=_hf("tiiuae/falcon-7b") + " (multi_query: true)"),
    KVConfig("DeepSeek-V2-Lite", 27, 16, 16, 192, 2048, kv_lora_rank=512, qk_rope_head_dim=64,
             qk_nope_head_dim=128, v_head_dim=128, n_params=15.7e9,
             params_source="published (15.7B total, 2.4B active per token)", source=_hf("deepseek-ai/DeepSeek-V2-Lite")),
    KVConfig("DeepSeek-V2", 60, 128, 128, 192, 5120, kv_lora_rank=512, qk_rope_head_dim=64,
             qk_nope_head_dim=128, v_head_dim=128, n_params=236e9,
             params_source="published (236B total, 21B active per token)", source=_hf("deepseek-ai/DeepSeek-V2")),
    KVConfig("DeepSeek-V3", 61, 128, 128, 192, 7168, kv_lora_rank=512, qk_rope_head_dim=64,
             qk_nope_head_dim=128, v_head_dim=128, n_params=671e9,
             params_source="published (671B total, 37B active per token)", source=_hf("deepseek-ai/DeepSeek-V3")),
]


def presets(include_registry: bool = True) -> dict[str, KVConfig]:
    """Named configs. SmolLM2 and Gemma 3 are read from the bundled models' own configs."""
    out = {c.name: c for c in _PRESETS}
    if include_registry:
        for read in (smollm2, gemma3):
            try:
                c = read()
                out[c.name] = c
            except Exception:                  # noqa: BLE001 - the model package may be absent
                pass
    return out


def bundled(model: str, name: str) -> KVConfig:
    """The preset of a bundled model, from its loaded config; parameters counted from its tensors."""
    lm = models.load(model)
    cfg = from_hf_dict(lm.config.to_dict(), name)
    n = sum(p.numel() for p in lm.model.parameters())            # tied embeddings counted once
    return replace(cfg, n_params=n, params_source="counted from the loaded model's tensors",
                   source=f"core.runtime.models.load('{model}').config (the bundled model)")


def smollm2() -> KVConfig:
    return bundled("smollm2-135m", "SmolLM2-135M")


def gemma3() -> KVConfig:
    """Gemma 3 270M: 18 layers, 5 sliding (window 512) then 1 global, repeating; 1 KV head of 256."""
    return bundled("gemma3-270m", "Gemma 3 270M")
