"""Every architecture adapter against Hugging Face eager attention on tiny random configs.

For each family: the adapter's recomputed weights of every (layer, head) equal HF's eager
``output_attentions`` to 1e-5 (so the mask, norms, q/k-norm and per-layer RoPE are the model's
own), the mask is the one HF applied (exact zeros where it is False), the sublayer writes sum to the
next hidden state, and per-head writes sum to the attention sublayer's write.
"""
import pytest
import torch
from transformers import (AutoModel, AutoModelForCausalLM, BertConfig, Gemma3TextConfig, GPT2Config,
                          LlamaConfig, MistralConfig, Qwen3Config)

from core.runtime import adapters

TOL = 1e-5
N = 12
SMALL = dict(vocab_size=97, hidden_size=32, intermediate_size=64, num_attention_heads=4)


def _configs():
    yield "llama-gqa", LlamaConfig(**SMALL, num_hidden_layers=2, num_key_value_heads=2), AutoModelForCausalLM
    yield "qwen3-qknorm", Qwen3Config(**SMALL, num_hidden_layers=2, num_key_value_heads=2, head_dim=8,
                                      rope_theta=5e5), AutoModelForCausalLM
    yield "mistral-window", MistralConfig(**SMALL, num_hidden_layers=2, num_key_value_heads=1,
                                          sliding_window=5), AutoModelForCausalLM
    yield "gemma3-local-global", Gemma3TextConfig(
        **SMALL, num_hidden_layers=3, num_key_value_heads=1, head_dim=16, sliding_window=5,
        layer_types=["sliding_attention", "sliding_attention", "full_attention"],
        rope_parameters={"sliding_attention": {"rope_type": "default", "rope_theta": 10_000.0},
                         "full_attention": {"rope_type": "default", "rope_theta": 1_000_000.0}},
        query_pre_attn_scalar=16), AutoModelForCausalLM
    yield "bert", BertConfig(**SMALL, num_hidden_layers=2), AutoModel
    yield "gpt2", GPT2Config(vocab_size=97, n_embd=32, n_layer=2, n_head=4, n_positions=64), AutoModelForCausalLM


CASES = list(_configs())


@pytest.fixture(scope="module", params=CASES, ids=[c[0] for c in CASES])
def case(request):
    name, cfg, auto = request.param
    torch.manual_seed(0)
    cfg._attn_implementation = "eager"
    model = auto.from_config(cfg).eval().requires_grad_(False)
    for p in model.parameters():                      # non-trivial norm weights (HF inits them to 0/1)
        if p.dim() == 1:
            p.data.normal_(0, 0.3)
    ids = torch.randint(0, 97, (1, N))
    with torch.inference_mode():
        out = model(ids, output_attentions=True, output_hidden_states=True)
    return name, model, out


def test_weights_equal_eager_output_attentions(case):
    name, model, out = case
    ad = adapters.for_model(model)
    assert len(out.attentions) == ad.n_layers
    hs = out.hidden_states
    for layer in range(ad.n_layers):
        q, k, scale = ad.qk(hs[layer][0], layer)
        allowed = ad.mask(layer, N)
        w = ad.weights(q, k, scale, allowed)                          # (head, q_pos, k_pos)
        ref = out.attentions[layer][0]
        assert torch.allclose(w, ref, atol=TOL), (name, layer, float((w - ref).abs().max()))
        assert (ref[:, ~allowed] == 0).all()                          # the mask is the one HF used


def test_some_heads_and_rows_match_all(case):
    _, model, out = case
    ad = adapters.for_model(model)
    h = out.hidden_states[1][0]
    q, k, _ = ad.qk(h, 1)
    rows = torch.tensor([0, 5, N - 1])
    q2, k2, _ = ad.qk(h, 1, heads=[3, 1], rows=rows)
    assert torch.allclose(q2, q[[3, 1]][:, rows], atol=1e-6) and torch.allclose(k2, k[[3, 1]], atol=1e-6)
    assert torch.equal(ad.mask(1, N, rows=rows), ad.mask(1, N)[rows])


def test_sublayers_sum_to_next_hidden_state(case):
    name, model, out = case
    ad = adapters.for_model(model)
    hs = out.hidden_states
    with torch.inference_mode():
        for layer in range(ad.n_layers - 1):                          # the last is read after the final norm
            b = ad.block(hs[layer][0], layer, per_head=True)
            assert torch.allclose(hs[layer][0] + b.attn.total + b.mlp, hs[layer + 1][0], atol=1e-4), (name, layer)
            assert torch.allclose(b.out, hs[layer + 1][0], atol=1e-4)
            if b.attn.per_head is not None:
                total = b.attn.per_head.sum(0) + (0 if b.attn.bias is None else b.attn.bias)
                assert torch.allclose(total, b.attn.total, atol=1e-5), (name, layer)


def test_read_out_reproduces_the_logits(case):
    name, model, out = case
    ad = adapters.for_model(model)
    if not ad.causal:
        pytest.skip("an encoder has no language-model read-out")
    hs = out.hidden_states
    with torch.inference_mode():
        last = ad.block(hs[-2][0], ad.n_layers - 1).out
        assert torch.allclose(ad.logits(last), out.logits[0], atol=1e-4), name


def test_local_and_global_layers_are_labelled():
    _, cfg, auto = CASES[3]
    model = auto.from_config(cfg)
    ad = adapters.for_model(model)
    assert [ad.layer_type(i) for i in range(3)] == ["local", "local", "global"]
    assert ad.window(0) == 5 and ad.window(2) is None
    assert ad.rope_base(0) == 10_000.0 and ad.rope_base(2) == 1_000_000.0
    m = ad.mask(0, 8)
    assert m[7].tolist() == [False, False, False, True, True, True, True, True]  # 5 keys, itself included


def test_an_unknown_family_is_refused_by_name():
    cfg = LlamaConfig(**SMALL, num_hidden_layers=1)
    model = AutoModelForCausalLM.from_config(cfg)
    model.config.model_type = "falcon_mamba"
    with pytest.raises(adapters.UnsupportedArchitecture, match="falcon_mamba"):
        adapters.for_model(model)
