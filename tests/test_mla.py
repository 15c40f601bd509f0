"""MLA module: weight-absorbed == naive (at any batch), the cache tensors allocated equal the
formula, and the naive-vs-absorbed count and measurement."""
import dataclasses

import pytest
import torch

from core.efficiency import kv_cache as kc
from core.efficiency import mla
from core.efficiency import mla_tradeoff as tradeoff

CFG = mla.MLAConfig(d_model=256, n_heads=4, d_nope=32, d_rope=16, d_v=32, d_c=64, gqa_groups=2, n_layers=2)


@pytest.fixture(scope="module")
def runs():
    return {k: mla.decode(k, CFG, prompt_len=24, new_tokens=6) for k in mla.KINDS}


def test_absorbed_equals_naive(runs):
    a, b = runs["MLA naive"].outputs, runs["MLA absorbed"].outputs
    assert a.shape == (1, 6, 256)
    assert (a - b).abs().max() < 1e-4 * a.abs().max()


@pytest.fixture(scope="module")
def batched():
    return {k: mla.decode(k, CFG, prompt_len=24, new_tokens=6, batch=3) for k in mla.KINDS}


def test_absorbed_equals_naive_at_batch_3(batched):
    a, b = batched["MLA naive"].outputs, batched["MLA absorbed"].outputs
    assert a.shape == (3, 6, 256) and batched["MLA naive"].batch == 3
    assert (a - b).abs().max() < 1e-4 * a.abs().max()
    assert (a[0] - a[1]).abs().max() > 0.1                     # the sequences differ, so rows are not copies


@pytest.mark.parametrize("kind", mla.KINDS)
def test_each_sequence_of_a_batch_is_decoded_on_its_own(batched, kind):
    """Sequence 0 of a batch of 3 equals that sequence decoded alone: no mixing across batch."""
    layers = mla.build_stack(kind, CFG, seed=4, device=torch.device("cpu"))
    x = torch.randn(3, 9, 256)
    pos = torch.arange(9)
    both = layers[0](x, pos, {}, absorbed=kind == "MLA absorbed")
    alone = layers[0](x[1:2], pos, {}, absorbed=kind == "MLA absorbed")
    assert torch.allclose(both[1:2], alone, atol=1e-5)


@pytest.mark.parametrize("kind", mla.KINDS)
def test_batched_cache_equals_formula(batched, kind):
    r = batched[kind]
    conf = mla.kv_config(kind, CFG)
    assert r.cache_bytes == [kc.cache_bytes(conf, s, 3, r.bytes_per_element) for s in r.seq_lens]


def test_absorbed_equals_naive_on_prefill():
    layer = mla.build_stack("MLA naive", CFG, seed=1, device=torch.device("cpu"))[0]
    x, pos = torch.randn(2, 10, 256), torch.arange(10)
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
    x, pos = torch.randn(2, 12, 256), torch.arange(12)
    out = layer(x, pos, {})
    d, kv = CFG.d_v, CFG.n_heads // CFG.gqa_groups
    q = mla.rope(layer.w_q(x).view(2, 12, CFG.n_heads, d).transpose(1, 2), pos, CFG.rope_theta)
    k = mla.rope(layer.w_k(x).view(2, 12, kv, d).transpose(1, 2), pos, CFG.rope_theta)
    v = layer.w_v(x).view(2, 12, kv, d).transpose(1, 2)
    ref = F.scaled_dot_product_attention(q, k.repeat_interleave(CFG.gqa_groups, 1),
                                         v.repeat_interleave(CFG.gqa_groups, 1), is_causal=True)
    assert torch.allclose(out, layer.w_o(ref.transpose(1, 2).reshape(2, 12, -1)), atol=1e-5)


def test_macs_absorbed_cheaper_past_break_even_and_naive_cheaper_for_a_prefill_chunk():
    cfg = mla.PRESETS["small (fast)"]
    keys = tradeoff.macs_break_even(cfg)
    assert 2 < keys < 64
    assert tradeoff.macs_ratio(cfg, 1, int(keys) - 2) < 1 < tradeoff.macs_ratio(cfg, 1, int(keys) + 1)
    assert tradeoff.macs_ratio(cfg, 64, 8192) == pytest.approx(tradeoff.macs_ratio(cfg, 1, 8192))  # batch scales both
    assert tradeoff.macs_ratio(cfg, 1, 0, queries=512) < 1                       # prefill: naive does less
    naive = tradeoff.step_macs(cfg, 2, 100, absorbed=False)
    assert naive["total"] == naive["fixed"] + naive["per cached token"]
    assert naive["per cached token"] == 2 * 101 * (cfg.d_c * cfg.n_heads * (cfg.d_nope + cfg.d_v)
                                                   + cfg.n_heads * (cfg.d_nope + cfg.d_rope + cfg.d_v))


def test_step_ms_measures_both_paths_in_one_run():
    cfg = dataclasses.replace(CFG, n_layers=1)
    row = tradeoff.step_ms(cfg, 2, 32, steps=2, device=torch.device("cpu"))
    assert row["naive ms"] > 0 and row["absorbed ms"] > 0
    assert row["naive / absorbed"] == pytest.approx(row["naive ms"] / row["absorbed ms"])
    seen = []
    rows = tradeoff.tradeoff(cfg, [1, 2], [8, 16], steps=1, progress=lambda f, m: seen.append(f))
    assert [(r["batch"], r["context"]) for r in rows] == [(1, 8), (1, 16), (2, 8), (2, 16)]
    assert seen == [0.25, 0.5, 0.75, 1.0]


def test_tradeoff_figure_one_line_per_batch_and_the_break_even_marked():
    from core.figures import efficiency as fx
    rows = [{"batch": b, "context": s, "queries": 1, "naive ms": 2.0 * s, "absorbed ms": 1.0 * b,
             "naive / absorbed": 2.0 * s / b, "MACs naive / absorbed": s / 4} for b in (4, 1) for s in (64, 8)]
    fig = fx.tradeoff_figure(rows)
    assert [t.name for t in fig.data] == ["batch 1, measured", "batch 4, measured", "multiply-adds (any batch)"]
    assert list(fig.data[0].x) == [8, 64] and list(fig.data[0].y) == [16.0, 128.0]
    assert fig.layout.yaxis.type == "log" and [a.y for a in fig.layout.annotations] == [0, 0]   # 10⁰ = 1 on a log axis
    assert [sh.y0 for sh in fig.layout.shapes] == [1]
