"""The all-heads overview (core.attention.stats.overview), computed in row chunks over the keys each
chunk may see and without a per-weight logarithm, against the plain computation from the full
attention rows of every layer: a causal model, a bidirectional encoder and a sliding-window model
whose chunks start inside the sequence."""
import shutil

import numpy as np
import pytest
import torch
from transformers import AutoModelForCausalLM, Gemma3TextConfig

from core.attention import heads as attention
from core.attention import stats
from core.runtime import models


def reference(result, config):
    """The statistics and thumbnails from ``row_weights`` (every key of every sampled row)."""
    rows = stats.sample_rows(result.n_tokens, config.max_rows)
    thumb_idx = np.unique(np.linspace(0, len(rows) - 1, min(config.thumb, len(rows))).round().astype(int))
    table, thumbs = {key: [] for key in stats.STATS}, []
    for layer in range(result.n_layers):
        w = stats.row_weights(result, layer, rows).float()                 # (head, row, k_pos)
        st = stats._stats(w, rows)
        st["prev_token"] = st["prev_token"][:, rows >= 1] if len(rows) > 1 else torch.zeros(w.shape[:2])
        for key in stats.STATS:
            table[key] += st[key].mean(1).tolist()
        thumbs.append(stats._thumb(w[:, torch.as_tensor(thumb_idx)], config.thumb).numpy())
    return table, np.stack(thumbs)


def check(result, config, monkeypatch, cells):
    monkeypatch.setattr(stats, "CHUNK_CELLS", cells)                      # several chunks per layer
    ov = stats.overview(result, config)
    table, thumbs = reference(result, config)
    assert len(ov.table) == result.n_layers * result.adapter.layout.n_heads
    for key in stats.STATS:
        got, want = ov.table[key].to_numpy(), np.array(table[key])
        assert np.allclose(got, want, rtol=1e-5, atol=2e-5), (key, np.abs(got - want).max())
    assert ov.thumbnails.shape == thumbs.shape and np.abs(ov.thumbnails - thumbs).max() < 1e-5
    return ov


@torch.inference_mode()
def test_causal_overview_equals_full_rows(monkeypatch):
    res = models.run(models.DEFAULT_CAUSAL, attention.corpus_text(models.DEFAULT_CAUSAL, 300))
    cfg = stats.OverviewConfig(max_rows=60, thumb=16)
    ov = check(res, cfg, monkeypatch, cells=9 * res.n_tokens * 7)          # 7 rows a chunk
    assert ov.sampled and len(ov.rows) == 60
    assert float(ov.table.prev_token.max()) > 0.5                          # a previous-token head is found


@torch.inference_mode()
def test_encoder_overview_equals_full_rows(monkeypatch):
    res = models.run(models.DEFAULT_ENCODER, attention.corpus_text(models.DEFAULT_ENCODER, 120))
    check(res, stats.OverviewConfig(max_rows=40, thumb=12), monkeypatch, cells=12 * res.n_tokens * 6)


@torch.inference_mode()
def test_sliding_window_overview_equals_full_rows(tmp_path, monkeypatch):
    """A tiny random Gemma 3 with an 8-key window: most chunks start their keys past position 0."""
    cfg = Gemma3TextConfig(vocab_size=262144, hidden_size=32, intermediate_size=48, num_hidden_layers=6,
                           num_attention_heads=4, num_key_value_heads=2, head_dim=8, sliding_window=8,
                           architectures=["Gemma3ForCausalLM"])
    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(cfg).save_pretrained(tmp_path)
    for f in models.gemma_dir().glob("*token*"):
        shutil.copy(f, tmp_path)
    res = models.run(str(tmp_path), attention.corpus_text(models.DEFAULT_CAUSAL, 80))
    assert res.adapter.window(0) == 8 and res.adapter.window(5) is None and res.n_tokens > 40
    ov = check(res, stats.OverviewConfig(max_rows=40, thumb=10), monkeypatch, cells=4 * res.n_tokens * 5)
    local = ov.table[ov.table.layer == 0]
    assert float(local.sink_mass.max()) < 0.2 and float(local.mean_distance.max()) < 8   # the window holds


@pytest.mark.parametrize("text", ["Hi", "Hi there"])
def test_short_inputs(text, monkeypatch):
    res = models.run(models.DEFAULT_CAUSAL, text)
    ov = check(res, stats.QUICK, monkeypatch, cells=1)                    # one row a chunk
    assert (ov.table.prev_token == 0).all() == (res.n_tokens == 1)
