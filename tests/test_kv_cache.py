"""KV-cache formulas against hand-computed values, and config.json validation messages."""
import json

import pytest

from core.efficiency import kv_cache as kc
from core.efficiency import kv_report as kr
from core.runtime.errors import InputError

P = kc.presets(include_registry=False)
LLAMA2_7B = {"num_hidden_layers": 32, "num_attention_heads": 32, "hidden_size": 4096,
             "intermediate_size": 11008, "vocab_size": 32000, "tie_word_embeddings": False}


def test_llama2_7b_by_hand():
    c = P["Llama-2-7B"]
    assert c.attention == "MHA"
    assert kc.elements_per_token(c) == 2 * 32 * 32 * 128
    assert kc.cache_bytes(c, 1) == 524_288                          # bf16, one token
    assert kc.cache_bytes(c, 4096, batch=2, bytes_per_element=4) == 524_288 * 2 * 4096 * 2
    assert kc.cache_bytes(c, 1, bytes_per_element=kc.DTYPES["int4"]) == 131_072
    # 80 GB after 6,738,415,616 bf16 weights: (80e9 - 13,476,831,232) // 524,288
    assert kc.tokens_that_fit(c, 80)["tokens"] == 126_882


def test_deepseek_v3_mla_by_hand():
    c = P["DeepSeek-V3"]
    assert c.attention == "MLA"
    assert kc.elements_per_token(c) == (512 + 64) * 61 == 35_136
    assert kc.cache_bytes(c, 4096) == 35_136 * 4096 * 2
    assert kc.without_mla_elements(c) == 128 * (192 + 128) * 61
    # linear, not constant: twice the tokens, twice the bytes
    assert kc.cache_bytes(c, 2 * 4096) == 2 * kc.cache_bytes(c, 4096)


def test_gqa_and_mqa():
    assert kc.elements_per_token(P["Llama-3-8B"]) == 2 * 8 * 128 * 32
    assert P["Llama-3-8B"].attention == "GQA"
    assert kc.elements_per_token(P["Falcon-7B"]) == 2 * 1 * 64 * 32
    assert P["Falcon-7B"].attention == "MQA"


def test_formula_has_numbers_substituted():
    text = " ".join(kr.formula(P["Llama-2-7B"], 4096))
    assert "2 × 32 × 128 × 32" in text and "524,288 B per token" in text
    text = " ".join(kr.formula(P["DeepSeek-V3"], 4096))
    assert "(512 + 64) × 61" in text and "35,136" in text and "Linear" in text


def test_parse_llama_config_matches_preset():
    c = kc.parse_config_json(json.dumps(LLAMA2_7B))
    assert kc.elements_per_token(c) == kc.elements_per_token(P["Llama-2-7B"])
    assert c.n_params == pytest.approx(6_738_415_616, rel=1e-4)     # shapes, without norms
    assert "estimated" in c.params_source


def test_parse_mla_gpt2_falcon_and_head_dim():
    mla = kc.from_hf_dict({"num_hidden_layers": 61, "num_attention_heads": 128, "hidden_size": 7168,
                           "kv_lora_rank": 512, "qk_rope_head_dim": 64, "n_routed_experts": 256})
    assert mla.attention == "MLA" and kc.elements_per_token(mla) == 35_136 and mla.n_params is None
    gpt2 = kc.from_hf_dict({"n_layer": 12, "n_head": 12, "n_embd": 768, "vocab_size": 50257})
    assert kc.elements_per_token(gpt2) == 2 * 12 * 64 * 12
    falcon = kc.from_hf_dict({"num_hidden_layers": 32, "num_attention_heads": 71, "hidden_size": 4544,
                              "multi_query": True})
    assert falcon.n_kv_heads == 1
    gemma = kc.from_hf_dict({"num_hidden_layers": 28, "num_attention_heads": 16, "num_key_value_heads": 16,
                             "hidden_size": 3072, "head_dim": 256})
    assert gemma.d_head == 256                                       # not 3072 / 16 = 192


@pytest.mark.parametrize("cfg,field", [
    ({"num_hidden_layers": 32, "hidden_size": 4096}, "num_attention_heads"),
    ({**LLAMA2_7B, "num_attention_heads": 32.5}, "num_attention_heads"),
    ({**LLAMA2_7B, "num_hidden_layers": "32"}, "num_hidden_layers"),
    ({**LLAMA2_7B, "num_key_value_heads": -8}, "num_key_value_heads"),
    ({**LLAMA2_7B, "num_key_value_heads": 5}, "num_key_value_heads"),
    ({**LLAMA2_7B, "head_dim": 0}, "head_dim"),
    ({**LLAMA2_7B, "kv_lora_rank": 512}, "qk_rope_head_dim"),
])
def test_bad_config_names_the_field(cfg, field):
    with pytest.raises(InputError, match=field):
        kc.parse_config_json(json.dumps(cfg))


def test_bad_json_and_oversize():
    with pytest.raises(InputError, match="not valid JSON"):
        kc.parse_config_json(b"{not json")
    with pytest.raises(InputError, match="JSON object"):
        kc.parse_config_json(b"[1, 2]")
    with pytest.raises(InputError, match="upload cap"):
        kc.parse_config_json(b" " * (21 * 2**20))


def test_smollm2_from_registry():
    c = kc.presets()["SmolLM2-135M"]
    assert (c.n_layers, c.n_heads, c.n_kv_heads, c.d_head) == (30, 9, 3, 64)
    assert kc.elements_per_token(c) == 2 * 3 * 64 * 30
    assert 130e6 < c.n_params < 140e6 and "counted" in c.params_source


# --------------------------------------------------------------------------- sliding-window layers

GEMMA_LIKE = {"model_type": "gemma3_text", "num_hidden_layers": 18, "num_attention_heads": 4,
              "num_key_value_heads": 1, "head_dim": 256, "hidden_size": 640, "intermediate_size": 2048,
              "vocab_size": 262144, "sliding_window": 512,
              "layer_types": (["sliding_attention"] * 5 + ["full_attention"]) * 3}
MISTRAL_LIKE = {"model_type": "mistral", "num_hidden_layers": 32, "num_attention_heads": 32,
                "num_key_value_heads": 8, "hidden_size": 4096, "intermediate_size": 14336,
                "vocab_size": 32000, "sliding_window": 4096}


@pytest.fixture(scope="module")
def gemma():
    return kc.presets()["Gemma 3 270M"]


def test_gemma_preset_from_bundled_model(gemma):
    assert (gemma.n_layers, gemma.n_heads, gemma.n_kv_heads, gemma.d_head) == (18, 4, 1, 256)
    assert gemma.sliding_window == 512 and (gemma.n_local_layers, gemma.n_global_layers) == (15, 3)
    assert [i for i, t in enumerate(gemma.layer_types) if t == kc.GLOBAL] == [5, 11, 17]
    assert gemma.attention == "MQA" and "gemma3-270m" in gemma.source and "counted" in gemma.params_source
    assert 260e6 < gemma.n_params < 280e6


def test_sliding_cache_bends_at_window_minus_one(gemma):
    assert kc.elements_per_token(gemma) == 2 * 1 * 256 * 18 == 9_216          # slope while T < 511
    assert kc.elements_per_token_past_window(gemma) == 2 * 1 * 256 * 3 == 1_536
    assert kc.cache_bytes(gemma, 511) == 9_216 * 511 * 2                     # every layer still growing
    assert kc.cached_positions(gemma, 4096) == (511, 4096)
    # 2 x 2 B x 1 x 256 x (3 x 32,768 + 15 x 511), by hand
    assert kc.cache_bytes(gemma, 32768) == 2 * 2 * 256 * (3 * 32768 + 15 * 511) == 108_512_256
    assert kc.cache_bytes(gemma, 2000) - kc.cache_bytes(gemma, 1000) == 1_536 * 1000 * 2
    split = kc.cache_split(gemma, 32768)
    assert split["local"] == kc.cache_split(gemma, 600)["local"] == 2 * 2 * 256 * 15 * 511
    assert split["local"] + split["global"] == kc.cache_bytes(gemma, 32768)
    # a Mistral-style config slides every layer: constant past window - 1
    mistral = P["Mistral-7B"]
    assert mistral.n_local_layers == 32 and kc.cache_bytes(mistral, 10**6) == kc.cache_bytes(mistral, 4095)


def test_windowless_presets_unchanged():
    for name in ("Llama-2-7B", "Llama-3-8B", "Falcon-7B", "DeepSeek-V3", "Qwen2.5-7B"):
        c = P[name]
        assert c.n_local_layers == 0 and kc.elements_per_token_past_window(c) == kc.elements_per_token(c)
        assert kc.cache_bytes(c, 12345, 3, 2) == kc.elements_per_token(c) * 12345 * 3 * 2


def test_window_formula_and_constant_memory_claim(gemma):
    text = " ".join(kr.formula(gemma, 32768))
    assert "n_global × T + n_local × min(T, window − 1)" in text
    assert "2 × 2 × 1 × 256 × (3 × 32,768 + 15 × min(32,768, 511))" in text and "108,512,256 B" in text
    assert "window − 1 = 511" in text and "makes 512" in text
    claim = kr.constant_memory_claim(gemma, 32768)
    assert "common claim" in claim and "constant" in claim and "still grow by 3,072 B per token" in claim
    assert f"{2 * 2 * 256 * 15 * 511:,} B" in claim and "seed" not in claim.lower()


def test_tokens_that_fit_past_the_window(gemma):
    fit = kc.tokens_that_fit(gemma, 1)
    free = 1e9 - gemma.n_params * 2
    assert fit["tokens"] == 511 + int((free - kc.cache_bytes(gemma, 511)) // (1_536 * 2))
    assert kc.cache_bytes(gemma, fit["tokens"]) <= free < kc.cache_bytes(gemma, fit["tokens"] + 1)
    assert kc.tokens_that_fit(P["Mistral-7B"], 80)["tokens"] is None          # never outgrows 80 GB


def test_parse_gemma_mistral_qwen_window_configs():
    g = kc.parse_config_json(json.dumps(GEMMA_LIKE))
    assert (g.sliding_window, g.n_local_layers, g.n_global_layers) == (512, 15, 3)
    assert kc.cache_bytes(g, 32768) == 108_512_256
    old = {k: v for k, v in GEMMA_LIKE.items() if k != "layer_types"}     # older Gemma 3 files: a pattern
    assert kc.parse_config_json(json.dumps({**old, "sliding_window_pattern": 6})).layer_types == g.layer_types
    assert kc.parse_config_json(json.dumps(old)).layer_types == g.layer_types   # gemma3 default pattern
    m = kc.parse_config_json(json.dumps(MISTRAL_LIKE))
    assert (m.sliding_window, m.n_local_layers) == (4096, 32)
    assert kc.cache_bytes(m, 8192) == 2 * 8 * 128 * 32 * 4095 * 2
    qwen = {**MISTRAL_LIKE, "model_type": "qwen2", "sliding_window": 131072, "use_sliding_window": False,
            "max_window_layers": 28, "layer_types": ["sliding_attention"] * 32}
    assert kc.parse_config_json(json.dumps(qwen)).n_local_layers == 0
    q = kc.parse_config_json(json.dumps({**qwen, "use_sliding_window": True, "layer_types": None}))
    assert q.n_local_layers == 4 and q.layer_types[27:29] == (kc.GLOBAL, kc.LOCAL)
    assert kc.parse_config_json(json.dumps({**LLAMA2_7B, "sliding_window": None})).n_local_layers == 0


@pytest.mark.parametrize("cfg,field", [
    ({**GEMMA_LIKE, "layer_types": GEMMA_LIKE["layer_types"][:-1]}, "layer_types"),
    ({**GEMMA_LIKE, "layer_types": ["chunked_attention"] * 18}, "layer_types"),
    ({**GEMMA_LIKE, "layer_types": "sliding_attention"}, "layer_types"),
    ({**GEMMA_LIKE, "sliding_window": -512}, "sliding_window"),
    ({**GEMMA_LIKE, "sliding_window": "512"}, "sliding_window"),
    ({**MISTRAL_LIKE, "use_sliding_window": "yes"}, "use_sliding_window"),
    ({**MISTRAL_LIKE, "use_sliding_window": True, "max_window_layers": -1}, "max_window_layers"),
])
def test_bad_window_field_is_named(cfg, field):
    with pytest.raises(InputError, match=field):
        kc.parse_config_json(json.dumps(cfg))


def test_growth_figure_draws_the_bend(gemma):
    from core.figures import efficiency as fx

    cmp = kr.compare({"Gemma 3 270M": gemma, "Llama-2-7B": P["Llama-2-7B"]}, [128, 1024, 8192], 8192)
    assert cmp["lengths"] == [128, 511, 1024, 8192] and cmp["bends"] == {"Gemma 3 270M": 511}
    assert list(cmp["curve"]) == ["tokens", "Gemma 3 270M", "Llama-2-7B", "Gemma 3 270M: local layers",
                                  "Gemma 3 270M: global layers"]
    fig = fx.cache_growth_figure(cmp["lengths"], cmp["series"], cmp["kinds"], parts=cmp["parts"],
                                 bends=cmp["bends"], labels=cmp["labels"])
    by_name = {t.name: t for t in fig.data}
    local = by_name["Gemma 3 270M: local layers"].y
    assert local[1] == local[2] == local[3] > local[0]                          # flat past 511
    glob = by_name["Gemma 3 270M: global layers"].y
    assert glob[3] == pytest.approx(8 * glob[2])                                # still growing
    assert "Gemma 3 270M (MQA, 15/18 layers window 512)" in by_name
    assert "window − 1 = 511" in by_name and "Llama-2-7B: local layers" not in by_name
    assert cmp["rows"][0]["sliding layers"] == "15 (window 512)" and cmp["rows"][1]["sliding layers"] == "—"


def test_gemma_formula_equals_real_cache_during_generation(gemma):
    """Parity with the real model: the bytes its past_key_values hold after a 700-token prefill
    and one decode step (sliding layers 511 positions, global layers 701) equal the formula."""
    import torch

    from core.attention.heads import corpus_text
    from core.runtime import models
    from core.text.generation import cache_nbytes

    lm = models.load("gemma3-270m")
    ids = lm.tokenizer(corpus_text("gemma3-270m", 700), return_tensors="pt")["input_ids"].to(lm.device)
    n = ids.shape[1]
    assert 690 <= n <= 700
    bpe = next(lm.model.parameters()).element_size()                          # float32: 4
    with torch.inference_mode():
        out = lm.model(input_ids=ids, use_cache=True)
        assert cache_nbytes(out.past_key_values) == kc.cache_bytes(gemma, n, 1, bpe)
        nxt = out.logits[:, -1:].argmax(-1)                                   # (batch, 1)
        out = lm.model(input_ids=nxt, past_key_values=out.past_key_values, use_cache=True)
    cache, t = out.past_key_values, n + 1
    held = [layer.keys.shape[-2] for layer in cache.layers]                   # k_pos per layer
    assert held == [t if i in (5, 11, 17) else 511 for i in range(18)]
    measured = cache_nbytes(cache)
    assert measured == kc.cache_bytes(gemma, t, 1, bpe) == lm.adapter.kv_cache_bytes(t, bpe)
    assert measured == 2 * bpe * 1 * 256 * (3 * t + 15 * 511)
