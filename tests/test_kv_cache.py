"""KV-cache formulas against hand-computed values, and config.json validation messages."""
import json

import pytest

from core.efficiency import kv_cache as kc
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
    text = " ".join(kc.formula(P["Llama-2-7B"], 4096))
    assert "2 × 32 × 128 × 32" in text and "524,288 B per token" in text
    text = " ".join(kc.formula(P["DeepSeek-V3"], 4096))
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
