"""Attention maths on the real bundled models: lazy per-head weights equal eager attention, masks,
GQA mapping, statistics invariants, rollout, offline bertviz and the figure builders."""

import numpy as np
import pytest
import torch

import core.attention as core_attention
from core.attention import heads as attention
from core.attention import stats as attention_stats
from core.attention import bertviz_offline
from core.runtime import limits
from core.runtime import models
from core.runtime.errors import InputError
from core.figures import attention as figs

TEXT = "The cat sat on the mat because it was tired."
SMOL, MINI = models.DEFAULT_CAUSAL, models.DEFAULT_ENCODER


@pytest.fixture(scope="module")
def smol():
    return models.run(SMOL, TEXT)


@pytest.fixture(scope="module")
def mini():
    return models.run(MINI, TEXT)


@pytest.fixture(scope="module")
def eager_attentions(smol):
    """A separate eager instance (the shared model is never altered) and its own attention output."""
    from transformers import AutoModelForCausalLM
    eager = AutoModelForCausalLM.from_pretrained(models.smollm_dir(), attn_implementation="eager",
                                                 dtype=torch.float32).eval()
    with torch.inference_mode():
        out = eager(input_ids=torch.tensor([smol.ids]), output_attentions=True)
    assert len(out.attentions) == 30
    return out.attentions


def test_lazy_weights_equal_eager_attention(smol, eager_attentions):
    worst = 0.0
    for layer in (0, 7, 15, 29):
        for head in range(9):
            lazy = attention.head_weights(smol, layer, head).cpu()
            worst = max(worst, float((lazy - eager_attentions[layer][0, head]).abs().max()))
    assert worst < 1e-5


def test_rows_sum_to_one_and_causal_zeros(smol):
    w = attention.head_weights(smol, 5, 4)
    assert torch.allclose(w.sum(-1), torch.ones(smol.n_tokens), atol=1e-5)
    assert float(torch.triu(w, 1).abs().max()) == 0.0
    up = attention.above_diagonal(w)
    assert up["max"] == 0.0 and up["nonzero"] == 0 and up["cells"] == smol.n_tokens * (smol.n_tokens - 1) // 2


def test_minilm_is_bidirectional(mini):
    w = attention.head_weights(mini, 2, 3)
    assert torch.allclose(w.sum(-1), torch.ones(mini.n_tokens), atol=1e-5)
    up = attention.above_diagonal(w)
    assert up["nonzero"] == up["cells"] and up["mass_per_row"] > 0.01


def test_gqa_head_mapping(smol):
    cfg = models.load(SMOL).config
    shp = attention.head_shape(cfg)
    assert (shp["n_heads"], shp["n_kv_heads"], shp["group"]) == (9, 3, 3)
    assert [attention.kv_head_of(cfg, h) for h in range(9)] == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    _, k0, _ = attention.head_qk(smol, 4, 0)
    _, k2, _ = attention.head_qk(smol, 4, 2)
    _, k3, _ = attention.head_qk(smol, 4, 3)
    assert torch.equal(k0, k2) and not torch.allclose(k0, k3)     # heads 0-2 share KV head 0
    q, k, _ = attention.layer_qk(smol, 4)
    assert q.shape == (9, smol.n_tokens, 64) and k.shape == (9, smol.n_tokens, 64)


def test_masked_head_uses_the_drawn_mask(smol):
    mh = attention.masked_head(smol, 3, 0)
    assert torch.equal(mh.allowed, attention.subsequent_mask(smol.n_tokens))
    assert torch.isneginf(mh.masked[~mh.allowed]).all()
    assert torch.equal(mh.masked[mh.allowed], mh.scores[mh.allowed])
    assert torch.allclose(mh.weights, attention.head_weights(smol, 3, 0))


def test_padding_and_combined_masks():
    b = attention.padded_batch(SMOL, ["The cat sat on the mat", "A cat"])
    n_real = int(b.attention_mask[1].sum())
    assert b.attention_mask.shape[0] == 2 and n_real < b.attention_mask.shape[1]
    assert not b.padding[1][:, n_real:].any() and b.padding[1][:, :n_real].all()
    assert torch.equal(b.combined[1], b.causal & b.padding[1])
    assert torch.equal(b.combined[0], b.causal)


def test_head_stats_invariants(smol):
    ov = attention_stats.overview(smol, attention_stats.QUICK)
    t = ov.table
    assert t.equals(core_attention.head_stats(smol, attention_stats.QUICK))     # the public API
    assert len(t) == 30 * 9 and set(attention_stats.STATS) <= set(t.columns)
    assert (t.entropy_bits >= 0).all() and (t.entropy_bits <= np.log2(smol.n_tokens) + 1e-6).all()
    assert t.sink_mass.between(0, 1).all() and t.prev_token.between(0, 1).all()
    assert (t.mean_distance >= 0).all() and (t.mean_distance <= smol.n_tokens - 1).all()
    w = attention.head_weights(smol, 5, 4).numpy()                 # exact stats of one head by hand
    row = t[(t.layer == 5) & (t["head"] == 4)].iloc[0]
    assert row.sink_mass == pytest.approx(w[:, 0].mean(), abs=1e-5)
    assert row.prev_token == pytest.approx(np.diag(w, -1).mean(), abs=1e-5)
    assert np.allclose(ov.thumbnails.sum(-1), 1, atol=1e-4)        # binned rows keep their mass


def test_sampled_rows_are_exact_rows(smol):
    rows = attention_stats.sample_rows(smol.n_tokens, 4)
    assert len(rows) == 4 and rows[0] == 0 and rows[-1] == smol.n_tokens - 1
    part = attention_stats.row_weights(smol, 6, rows)[2]
    assert torch.allclose(part, attention.head_weights(smol, 6, 2)[rows], atol=1e-6)


def test_rollout(smol):
    r = attention_stats.rollout(smol)
    assert r.shape == (smol.n_tokens, smol.n_tokens)
    assert np.allclose(r.sum(1), 1, atol=1e-4) and np.triu(r, 1).max() == 0.0   # causal stays causal
    with pytest.raises(InputError, match="computed up to 4 tokens"):
        attention_stats.rollout(smol, attention_stats.OverviewConfig(rollout_max_tokens=4))


def test_context_cap_for_minilm():
    long = attention.corpus_text(MINI, 600)
    with pytest.raises(InputError, match="512 positions"):
        attention.check_context(MINI, long)
    assert attention.check_context(SMOL, attention.corpus_text(SMOL, 100)) == 100


def test_bertviz_offline_escapes_and_caps(monkeypatch):
    res = models.run(MINI, "a </script><b>x</b> & y")
    emb = bertviz_offline.embed(res, "head", 1)
    assert "src=\"http" not in emb.html and "ajax/libs/d3/5.7.0/d3.min'" not in emb.html   # no CDN
    assert emb.html.count("const params = ") == 1                   # duplicated JSON dropped
    assert "</script><b>" not in emb.html
    params = bertviz_offline.params_json(emb.html)
    assert "<" in params["attention"][0]["left_text"]               # shown as text, not markup
    values = np.array(params["attention"][0]["attn"]).ravel()
    assert np.allclose(values, np.round(values, 3))
    monkeypatch.setattr(limits, "current", lambda: limits.HOSTED)
    with pytest.raises(InputError, match="bertviz is offered up to 64 tokens"):
        bertviz_offline.embed(models.run(MINI, attention.corpus_text(MINI, 80)))


def test_bertviz_layer_budget():
    assert bertviz_offline.layer_window(6, 12, 128, 3) == list(range(6))
    win = bertviz_offline.layer_window(30, 9, 128, 29)
    assert len(win) == 8 and win[-1] == 29


def test_long_heatmap_is_an_image_and_small():
    n = 2048
    w = np.tril(np.random.default_rng(0).random((n, n), dtype=np.float32))
    w /= w.sum(1, keepdims=True)
    fig = figs.head_heatmap(w, ["<b>"] * n, window=(10, 10, 64))
    assert fig.data[0].type == "image" and fig.data[0].source.startswith("data:image/png;base64,")
    assert len(fig.to_json()) < 1_000_000
    small = figs.head_heatmap(w[:8, :8], ["<b>x</b>"] * 8)
    assert small.data[0].type == "heatmap" and all("<b>" not in x for x in small.data[0].x)


def test_max_pool_keeps_peaks():
    w = np.zeros((1000, 1000), np.float32)
    w[999, 3] = 0.7
    pooled, b = figs.max_pool(w, 100)
    assert b == 10 and pooled.shape == (100, 100) and pooled[99, 0] == pytest.approx(0.7)


def test_blocked_causal_weights_equal_full(smol):
    """The row-blocked path used at long inputs gives the same weights as the one-shot softmax."""
    full = attention.scores_to_weights(attention.head_scores(smol, 8, 1), attention.mask_for(smol, 8))
    blocked = attention.head_weights(smol, 8, 1, block=3)
    assert torch.allclose(blocked, full, atol=1e-6) and float(torch.triu(blocked, 1).abs().max()) == 0.0
