"""bf16 against float32 on the bundled models, and the start-up dtype choice.

The engine runs bf16 where the hardware has fast bf16 (``core.runtime.device.get_dtype``); the
rest of the suite runs float32 (tests/conftest.py) so it can demand exact agreement with HF eager.
Here the same text runs through a bf16 and a float32 copy of each model and every view's numbers
are compared. Tolerances (maximum absolute differences; measured on an AMD EPYC, Dec 2026, in
brackets for SmolLM2 / Gemma 3 / MiniLM):

- attention weights, every (layer, head, q_pos, k_pos): <= ATTN_TOL = 0.06  (0.032 / 0.023 / 0.014)
- next-token probabilities after the last token, whole vocabulary: <= NEXT_TOL = 0.02  (0.007 / 0.005)
- top-10 next-token probabilities at every position: <= TOPK_TOL = 0.05  (0.019 / 0.021)
- log p(actual next token) at every position: <= LOGP_TOL = 0.25 nats  (0.067 / 0.10)
- the most likely next token after the last position is the same token.
"""
from __future__ import annotations

import pytest
import torch

from core.attention.heads import layer_weights
from core.runtime import device, models

TEXT = "The capital of France is Paris, and the capital of Italy is Rome. The capital of Spain is"
ATTN_TOL, NEXT_TOL, TOPK_TOL, LOGP_TOL = 0.06, 0.02, 0.05, 0.25


@pytest.fixture(scope="module", params=["smollm2-135m", "gemma3-270m", "minilm-l6"])
def pair(request):
    name = request.param
    return models.run(name, TEXT, torch.float32), models.run(name, TEXT, torch.bfloat16)


def test_bf16_copy_is_bf16_and_float32_untouched(pair):
    fp32, bf16 = pair
    assert fp32.model.dtype == torch.float32 and bf16.model.dtype == torch.bfloat16
    assert fp32.model.model is not bf16.model.model                 # two copies, both cached
    assert bf16.hidden_states[0].dtype == torch.bfloat16
    assert fp32.ids == bf16.ids


def test_attention_weights_within_tolerance(pair):
    fp32, bf16 = pair
    worst = 0.0
    for layer in range(fp32.n_layers):
        a, b = layer_weights(fp32, layer), layer_weights(bf16, layer)
        assert b.dtype == torch.float32                              # softmax is done in float32
        torch.testing.assert_close(b.sum(-1), torch.ones_like(b.sum(-1)), atol=1e-5, rtol=0)
        worst = max(worst, (a - b).abs().max().item())
    assert 0 < worst <= ATTN_TOL                                     # bf16 does move them, a little


def test_next_token_probabilities_within_tolerance(pair):
    fp32, bf16 = pair
    if not fp32.causal:
        pytest.skip("encoder: no next-token distribution")
    pa, pb = fp32.next_logits.softmax(-1), bf16.next_logits.softmax(-1)
    assert bf16.next_logits.dtype == torch.float32
    assert (pa - pb).abs().max().item() <= NEXT_TOL
    assert pa.argmax() == pb.argmax()
    assert (fp32.topk_probs - bf16.topk_probs).abs().max().item() <= TOPK_TOL
    assert (fp32.token_logprobs - bf16.token_logprobs).abs().max().item() <= LOGP_TOL


def test_dtype_override_and_auto(monkeypatch):
    monkeypatch.setenv("ATLAS_DTYPE", "bfloat16")
    assert device.get_dtype() == torch.bfloat16 and "ATLAS_DTYPE" in device.describe_dtype()
    monkeypatch.setenv("ATLAS_DTYPE", "fp32")
    assert device.get_dtype() == torch.float32
    monkeypatch.setenv("ATLAS_DTYPE", "float16x")
    with pytest.raises(RuntimeError, match="ATLAS_DTYPE"):
        device.get_dtype()
    monkeypatch.setenv("ATLAS_DTYPE", "auto")
    fast, why = device.bf16_fast(torch.device("cpu"))
    assert fast == bool(device.cpu_bf16_flags()) and why
    want = torch.bfloat16 if device.bf16_fast()[0] else torch.float32
    assert device.get_dtype() == want
    assert device.describe_dtype().startswith(device.dtype_name(want))
