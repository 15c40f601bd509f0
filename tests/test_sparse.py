"""core.efficiency.patterns masks (densities worked by hand), flex_attention == dense SDPA for every pattern,
the measurement budget, and a pattern applied to SmolLM2's real attention without side effects.

flex is compiled once at 256 tokens (≈20 s on a 2-core CPU) and reused by every case."""
import pytest
import torch

from core.efficiency import patterns as sparse
from core.efficiency import flex as sparse_exec
from core.efficiency import on_model
from core.runtime.errors import InputError


@pytest.mark.parametrize("pattern,n,params,kept", [
    ("window", 8, {"window": 4}, 34),                 # |q-k|<=2: 3+4+5*4+4+3
    ("block_local", 8, {"block": 4}, 32),             # two 4x4 blocks
    ("global", 8, {"global_tokens": 2}, 34),          # 2 full rows + 6x2 columns + 6 diagonal
    ("strided", 8, {"stride": 4}, 30),                # causal; q-k<4 or (q-k)%4==0: 1+2+3+4+5+5+5+5
    ("fixed", 8, {"stride": 4, "c": 1}, 24),          # own block, or k%4==3: 1+2+3+4+2+3+4+5
    ("longformer", 8, {"window": 4, "global_tokens": 1}, 44),   # 34 + 5 in row 0 + 5 in column 0
    ("dilated", 9, {"window": 4, "dilation": 2}, 9 + 2 * 7 + 2 * 5),  # offsets 0, ±2, ±4
    ("bigbird", 12, {"block": 2, "window_blocks": 3, "random_blocks": 0, "global_blocks": 2}, 30 * 4),
])
def test_density_by_hand(pattern, n, params, kept):
    p = sparse.build(pattern, n, **params)
    assert p.mask.shape == (n, n) and p.mask.dtype == torch.bool
    assert int(p.mask.sum()) == kept
    assert p.density == pytest.approx(kept / n**2)


def test_random_rows_and_seed():
    a = sparse.build_mask("random", 64, n_random=5, seed=1)
    counts = a.sum(1)
    assert ((counts >= 5) & (counts <= 6)).all()      # 5 random keys, plus the diagonal
    assert torch.equal(a, sparse.build_mask("random", 64, n_random=5, seed=1))
    assert not torch.equal(a, sparse.build_mask("random", 64, n_random=5, seed=2))


def test_window_longer_than_sequence_is_clamped_with_note():
    p = sparse.build("window", 256, window=512)
    assert p.params["window"] == 256
    assert any("512" in n and "256" in n and "clamped" in n for n in p.notes)
    assert sparse.build("window", 256, window=100).notes == ()


def test_bad_parameters():
    with pytest.raises(InputError, match="Unknown pattern"):
        sparse.build("nope", 16)
    with pytest.raises(InputError, match="dilation"):
        sparse.build("dilated", 16, dilation=-1)
    with pytest.raises(InputError, match="takes"):
        sparse.build("window", 16, stride=3)


def test_cost_and_block_density():
    m = sparse.build_mask("block_local", 256, block=128)
    c = sparse.cost(m, d_head=64, heads=8)
    assert c["pairs_kept"] == 2 * 128 * 128 and c["ideal_speedup"] == 2.0
    assert c["flops_sparse"] == 4 * 2 * 128 * 128 * 64 * 8
    assert sparse.block_density(m) == 0.5


@pytest.mark.parametrize("pattern", sparse.PATTERNS)
def test_flex_equals_dense_for_every_pattern(pattern):
    n = 256
    small = {"longformer": {"window": 32, "global_tokens": 4}, "bigbird": {"block": 16},
             "strided": {"stride": 16}, "fixed": {"stride": 16, "c": 4}, "block_local": {"block": 32}}
    mask = sparse.build_mask(pattern, n, **small.get(pattern, {}))
    gen = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(1, 2, n, 32, generator=gen) for _ in range(3))
    out, compiled = sparse_exec.run_flex(q, k, v, mask)
    ref = sparse_exec.run_dense(q, k, v, mask)
    assert compiled, "flex_attention did not compile on this platform"
    assert (out - ref).abs().max() < 1e-4


@pytest.mark.parametrize("pattern", sparse.PATTERNS)
def test_closed_form_mask_mod_reproduces_the_tensor(pattern):
    p = sparse.build(pattern, 200, **({"window": 500} if pattern == "window" else {}))   # clamped params
    mod = sparse.mask_mod(p)
    if pattern in ("random", "bigbird"):
        assert mod is None
        return
    q, k = torch.arange(200)[:, None], torch.arange(200)[None, :]
    assert torch.equal(mod(0, 0, q, k).expand(200, 200), p.mask)


def test_measure_one_reports_real_numbers():
    p = sparse.build("longformer", 256, window=32, global_tokens=4)
    m = sparse_exec.measure_one(p.mask, repeat=1)      # tensor-lookup kernel: already compiled above
    assert m.compiled and m.max_abs_diff < 1e-4
    assert m.ms_flex > 0 and m.ms_dense > 0 and m.peak_mib_dense > 0
    assert m.ideal_speedup == pytest.approx(1 / m.density)
    assert "measured" in sparse_exec.fmt_speedup(m)


def test_budget_refuses_long_lengths(monkeypatch):
    with pytest.raises(InputError, match="budget of .* GiB"):
        sparse_exec.check_lengths([512, 65536])
    monkeypatch.setenv("ATLAS_HOSTED", "1")
    with pytest.raises(InputError, match="hosted"):
        sparse_exec.check_lengths([2048])
    sparse_exec.check_lengths([1024])


def test_apply_to_smollm2_is_functional_and_exact():
    from core.attention import heads as attention
    from core.runtime import models
    res = models.run("smollm2-135m", "The capital of France is Paris. The capital of Germany is")
    lm = models.load("smollm2-135m")
    hooks = lambda: [(len(m._forward_hooks), len(m._forward_pre_hooks)) for m in lm.model.modules()]
    before, weights = hooks(), lm.model.model.layers[5].self_attn.q_proj.weight.clone()
    n = res.n_tokens
    full = on_model.apply_to_model(res, 5, 2, torch.ones(n, n, dtype=torch.bool))
    ref = torch.softmax(res.next_logits.float(), -1).cpu()
    assert (full.probs_dense - ref).abs().max() < 1e-5      # the recomputation is the model
    assert full.kl < 1e-6 and min(full.mass_kept) == pytest.approx(1.0, abs=1e-5)
    eff = on_model.apply_to_model(res, 5, 2, sparse.build_mask("window", n, window=4))
    assert 0 < eff.mean_mass_kept < 1 and eff.kl > 0
    assert torch.allclose(eff.dense_weights, attention.head_weights(res, 5, 2).cpu(), atol=1e-6)
    assert eff.sparse_weights.sum(-1).sub(1).abs().max() < 1e-5
    assert hooks() == before                                   # nothing installed or left behind
    assert torch.equal(weights, lm.model.model.layers[5].self_attn.q_proj.weight)


def test_recompile_limit_is_reported_not_hidden(monkeypatch):
    """Past dynamo's recompile limit flex would silently run eagerly (full matrix); it must be
    labelled as not compiled instead of being timed as a compiled kernel."""
    q, k, v = (torch.randn(1, 2, 80, 16) for _ in range(3))
    mask = sparse.build_mask("window", 80, window=8)
    sparse_exec.run_flex(q[:, :, :48], k[:, :, :48], v[:, :, :48], mask[:48, :48])  # >= 1 kernel
    monkeypatch.setattr(sparse_exec, "RECOMPILE_LIMIT", 1)
    out, compiled = sparse_exec.run_flex(q, k, v, mask)                              # a new shape
    assert not compiled
    ref = sparse_exec.run_dense(q, k, v, mask)
    assert (out - ref).abs().max() < 1e-5


# --------------------------------------------------------------------------- Gemma 3's own pattern

GEMMA = "gemma3-270m"


@pytest.fixture(scope="module")
def gemma_700():
    from core.attention import heads as attention
    from core.runtime import models
    res = models.run(GEMMA, attention.corpus_text(GEMMA, 700))
    assert res.n_tokens == 700
    return res


@pytest.mark.parametrize("n", [1, 100, 511, 512, 513, 600, 1500])
def test_model_pattern_is_the_density_of_each_layers_real_mask(n):
    from core.runtime import models
    ad = models.load(GEMMA).adapter
    pat = on_model.model_pattern(GEMMA, n)
    assert list(pat.table["layer"]) == list(range(ad.n_layers)) == list(range(18))
    for layer in range(ad.n_layers):
        row = pat.table.iloc[layer]
        real = ad.mask(layer, n)                                       # (q_pos, k_pos) the layer applies
        assert float(row["density"]) == int(real.sum()) / n ** 2          # exact pair count
        assert float(row["density"]) == pytest.approx(float(real.float().mean()), rel=1e-6)   # float32 mean
        assert float(row["keys per query (mean)"]) == pytest.approx(float(real.sum()) / n, rel=1e-12)
        assert row["layer_type"] == ad.layer_type(layer)
    causal = torch.ones(n, n, dtype=torch.bool).tril()
    assert pat.dense_causal == int(causal.sum()) / n ** 2


def test_model_pattern_by_type_and_saving_at_4096():
    pat = on_model.model_pattern(GEMMA, 4096)
    kinds = pat.by_type().set_index("layer_type")
    assert kinds.loc["local", "layers"] == 15 and kinds.loc["global", "layers"] == 3
    local = (512 * 513 / 2 + (4096 - 512) * 512) / 4096 ** 2           # ramp of 512 rows, then 512 keys each
    assert kinds.loc["local", "density"] == pytest.approx(local)
    assert kinds.loc["global", "density"] == pytest.approx(pat.dense_causal) == pytest.approx(4097 / 8192)
    assert pat.average == pytest.approx((15 * local + 3 * 4097 / 8192) / 18)
    assert pat.saving == pytest.approx(pat.average / pat.dense_causal)
    assert 0.36 < pat.saving < 0.37                                    # 36.2 % of the causal pairs
    summary = pat.summary().set_index("layer_type")
    assert summary.loc["dense causal", "share of causal pairs"] == 1.0
    assert summary.loc["model (mean of 18 layers)", "density"] == pytest.approx(pat.average)
    with pytest.raises(InputError, match="32,768"):
        on_model.model_pattern(GEMMA, 40_000)


def test_kept_pairs_closed_form():
    for n in (1, 5, 8, 9, 20):
        for w in (None, 1, 3, 8, 30):
            ref = torch.ones(n, n, dtype=torch.bool).tril()
            if w is not None:
                ref &= ~torch.ones(n, n, dtype=torch.bool).tril(-w)
            assert on_model.kept_pairs(n, w) == int(ref.sum())


def test_local_layer_is_exactly_zero_beyond_its_window(gemma_700):
    from core.attention import heads as attention
    ad = gemma_700.adapter
    glob = [layer for layer in range(18) if ad.layer_type(layer) == "global"]
    assert glob == [5, 11, 17] and ad.window(0) == 512
    for layer in (0, 4, 10):                                           # local layers
        for head in range(ad.layout.n_heads):
            w = attention.head_weights(gemma_700, layer, head)         # (q_pos, k_pos)
            far = torch.tril(w, diagonal=-512)                          # keys 512+ back, i.e. more than 511
            assert torch.count_nonzero(far) == 0, (layer, head)
            assert torch.diagonal(w, -511).sum() > 0                   # the key 511 back is still seen
    for layer in (5, 11):                                              # global layers
        w = attention.head_weights(gemma_700, layer, 0)
        assert torch.tril(w, diagonal=-512).sum() > 0
        assert (torch.tril(w, diagonal=-512).sum(-1)[512:] > 0).all()   # every query that has far keys uses them


def test_band_heads_reports_the_beyond_window_numbers(gemma_700):
    from core.attention import heads as attention
    band = on_model.band_heads(gemma_700, 4, 5, 1)
    assert band.window == 512 and band.beyond_pairs == 188 * 189 // 2   # queries 512..699: 1..188 far keys
    assert band.local_max_beyond == 0.0 and float(band.local_beyond.abs().max()) == 0.0
    assert torch.equal(band.local, attention.head_weights(gemma_700, 4, 1).cpu())
    g = attention.head_weights(gemma_700, 5, 1).cpu()
    assert band.global_last_beyond == pytest.approx(float(g[-1, :700 - 512].sum()), rel=1e-6)
    assert 0 < band.global_last_beyond < 1 and band.global_last_on_first == pytest.approx(float(g[-1, 0]))
    assert (band.global_beyond[:512] == 0).all()                        # no key is that far back yet
    assert band.global_mean_beyond == pytest.approx(float(torch.tril(g, -512).sum(-1)[512:].mean()), rel=1e-5)
    rows = band.rows()
    assert list(rows.columns[2:]) == ["layer 4 mass beyond window", "layer 5 mass beyond window"]
    with pytest.raises(InputError, match="not a sliding-window layer"):
        on_model.band_heads(gemma_700, 5, 11, 0)
    with pytest.raises(InputError, match="not a global layer"):
        on_model.band_heads(gemma_700, 4, 10, 0)


def test_model_sparsity_figures():
    import numpy as np
    from core.figures import model_sparsity as msx
    pat = on_model.model_pattern(GEMMA, 4096)
    fig = msx.pattern_bars(pat.table, pat.dense_causal, pat.average)
    bars = [t for t in fig.data if t.type == "bar"]
    assert [t.name for t in bars] == ["local layers", "global layers"]
    assert list(bars[1].x) == ["5", "11", "17"] and len(bars[0].x) == 15
    assert bars[1].marker.color != bars[0].marker.color
    lines = {t.name: t for t in fig.data if t.type == "scatter"}
    dense = next(t for name, t in lines.items() if name.startswith("dense causal"))
    assert set(dense.y) == {pat.dense_causal} and len(dense.y) == 18
    assert any(name.startswith("model mean") for name in lines)
    w = np.tril(np.full((600, 600), 1 / 600, dtype=np.float32))
    head = msx.band_head(w, [str(i) for i in range(600)], 512, title="t")
    assert head.data[0].type == "image" and len(head.layout.shapes) == 1
    edge = head.layout.shapes[0]
    assert (edge.x0, edge.y0, edge.x1, edge.y1) == (-0.5, 511, 88, 599.5)
    assert len(msx.band_head(w, [str(i) for i in range(600)], None).layout.shapes) == 0
