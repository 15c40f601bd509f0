"""MLA module: weight-absorbed == naive, and the cache tensors allocated equal the formula."""
import pytest
import torch

from core.efficiency import kv_cache as kc
from core.efficiency import mla

CFG = mla.MLAConfig(d_model=256, n_heads=4, d_nope=32, d_rope=16, d_v=32, d_c=64, gqa_groups=2, n_layers=2)


@pytest.fixture(scope="module")
def runs():
    return {k: mla.decode(k, CFG, prompt_len=24, new_tokens=6) for k in mla.KINDS}


def test_absorbed_equals_naive(runs):
    a, b = runs["MLA naive"].outputs, runs["MLA absorbed"].outputs
    assert a.shape == (6, 256)
    assert (a - b).abs().max() < 1e-4 * a.abs().max()


def test_absorbed_equals_naive_on_prefill():
    layer = mla.build_stack("MLA naive", CFG, seed=1, device=torch.device("cpu"))[0]
    x, pos = torch.randn(10, 256), torch.arange(10)
    naive = layer(x, pos, {}, absorbed=False)
    absorbed = layer(x, pos, {}, absorbed=True)
    assert torch.allclose(naive, absorbed, atol=1e-5)


@pytest.mark.parametrize("kind", mla.KINDS)
def test_measured_cache_equals_formula(runs, kind):
    r = runs[kind]
    conf = mla.kv_config(kind, CFG)
    assert r.cache_bytes == [kc.cache_bytes(conf, s, 1, r.bytes_per_element) for s in r.seq_lens]


def test_mla_cache_grows_linearly_with_small_constant(runs):
    r = runs["MLA naive"]
    steps = {b - a for a, b in zip(r.cache_bytes, r.cache_bytes[1:])}
    assert steps == {(64 + 16) * 2 * 4}                 # (d_c + d_rope) x layers x fp32, every token
    assert runs["MHA"].cache_bytes[-1] / r.cache_bytes[-1] == pytest.approx(2 * 4 * 32 / 80)


def test_bf16_cache_bytes():
    r = mla.decode("MLA absorbed", CFG, prompt_len=8, new_tokens=2, dtype=torch.bfloat16)
    assert r.bytes_per_element == 2
    assert r.cache_bytes[-1] == (64 + 16) * 2 * 10 * 2
    assert r.ms_per_token > 0


def test_gqa_layer_matches_sdpa_reference():
    import torch.nn.functional as F
    layer = mla.build_stack("GQA", CFG, seed=2, device=torch.device("cpu"))[0]
    x, pos = torch.randn(12, 256), torch.arange(12)
    out = layer(x, pos, {})
    d, kv = CFG.d_v, CFG.n_heads // CFG.gqa_groups
    q = mla.rope(layer.w_q(x).view(12, CFG.n_heads, d).transpose(0, 1), pos, CFG.rope_theta)
    k = mla.rope(layer.w_k(x).view(12, kv, d).transpose(0, 1), pos, CFG.rope_theta)
    v = layer.w_v(x).view(12, kv, d).transpose(0, 1)
    ref = F.scaled_dot_product_attention(q, k.repeat_interleave(CFG.gqa_groups, 0),
                                         v.repeat_interleave(CFG.gqa_groups, 0), is_causal=True)
    assert torch.allclose(out, layer.w_o(ref.transpose(0, 1).reshape(12, -1)), atol=1e-5)
