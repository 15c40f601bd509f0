"""Sinusoidal PE at worked points, PE·PE depending on the offset only, and RoPE's relative property."""
import math

import pytest
import torch

from core.text import positional as P


def test_sinusoidal_worked_points():
    pe = P.sinusoidal(50, 4)
    assert pe.shape == (50, 4)
    assert pe[0].tolist() == [0.0, 1.0, 0.0, 1.0]                           # sin 0, cos 0
    assert pe[1, 0].item() == pytest.approx(math.sin(1.0), abs=1e-6)        # i = 0: frequency 1
    assert pe[1, 1].item() == pytest.approx(math.cos(1.0), abs=1e-6)
    assert pe[2, 2].item() == pytest.approx(math.sin(2 / 10000 ** 0.5), abs=1e-6)   # i = 1: 2/100
    assert pe[2, 3].item() == pytest.approx(math.cos(0.02), abs=1e-6)
    assert P.sinusoidal(3, 4, base=100)[1, 2].item() == pytest.approx(math.sin(0.1), abs=1e-6)
    with pytest.raises(ValueError):
        P.sinusoidal(4, 5)


def test_pe_dot_depends_on_offset_only():
    d = P.pe_dot_offsets(64, 30, positions=(0, 7, 200))
    assert d.shape == (3, 31)
    assert torch.allclose(d[0], d[1], atol=1e-4) and torch.allclose(d[0], d[2], atol=1e-4)
    assert d[0, 0].item() == pytest.approx(32.0)                           # sin^2 + cos^2 per pair
    inv = P.rope_frequencies(64)
    assert d[0, 5].item() == pytest.approx(torch.cos(5 * inv).sum().item(), abs=1e-4)


def test_rope_rotation_is_relative():
    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(64, generator=g), torch.randn(64, generator=g)
    rot = P.rotate_pairs(q.expand(5, -1), torch.arange(5))
    assert torch.allclose(rot.norm(dim=-1), q.double().norm().expand(5))    # a rotation keeps length
    assert torch.allclose(rot[0], q.double())                               # position 0: no rotation
    s = P.rope_scores(q, k, 20, base=500000)
    for off in (-5, 0, 3, 11):
        diag = torch.diagonal(s, off)
        assert (diag - diag[0]).abs().max() < 1e-9
    curve = P.rope_offset_curve(q, k, 40, starts=(0, 123))
    assert torch.allclose(curve[0], curve[1], atol=1e-9)
    assert curve[0, 0].item() == pytest.approx(float(q @ k), rel=1e-6)


def test_smollm2_rope_settings_from_its_config():
    from transformers import AutoConfig
    from core.runtime import models
    cfg = P.rope_settings(AutoConfig.from_pretrained(models.smollm_dir()))
    assert cfg["rope_theta"] == 100000.0 and cfg["d_head"] == 64
