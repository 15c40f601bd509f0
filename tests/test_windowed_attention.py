"""Gemma 3's local layers in query blocks (core.runtime.attention_kernels) against plain SDPA with
HF's full sliding mask: the same hidden states on a tiny random Gemma 3 and on the bundled one past
its 512-key window; global layers, padding and other families keep HF's own SDPA path."""
import pytest
import torch
from transformers import AutoModelForCausalLM, Gemma3TextConfig, LlamaConfig
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import sdpa_mask, sliding_window_causal_mask_function

from core.attention import heads as attention
from core.runtime import attention_kernels as ak
from core.runtime import models
from core.runtime.adapters import causal_mask

WINDOW = 8


class _Module(torch.nn.Module):
    """What HF's attention functions read off the attention module."""
    def __init__(self, group: int):
        super().__init__()
        self.num_key_value_groups, self.is_causal = group, True


def _qkv(n: int, heads: int = 4, kv_heads: int = 2, d: int = 16, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(1, heads, n, d, generator=g), torch.randn(1, kv_heads, n, d, generator=g),
            torch.randn(1, kv_heads, n, d, generator=g))


@pytest.mark.parametrize("n", [WINDOW + 1, 3 * WINDOW, 3 * WINDOW + 5, 50])
def test_blocks_equal_the_full_sliding_mask(n):
    q, k, v = _qkv(n)
    mod = _Module(2)
    full = causal_mask(n, window=WINDOW)[None, None]                    # (1, 1, q_pos, k_pos), as HF builds it
    ref, _ = sdpa_attention_forward(mod, q, k, v, full, scaling=0.25)
    out, _ = ak.windowed_attention(mod, q, k, v, None, scaling=0.25, sliding_window=WINDOW)
    assert out.shape == ref.shape == (1, n, 4, 16)
    assert float((out - ref).abs().max()) < 1e-6
    plain_causal, _ = sdpa_attention_forward(mod, q, k, v, None, scaling=0.25)
    assert float((out - plain_causal).abs().max()) > 1e-3                # the window really cut keys


def test_global_layers_and_short_inputs_take_hfs_own_path():
    q, k, v = _qkv(40)
    mod = _Module(2)
    ref, _ = sdpa_attention_forward(mod, q, k, v, None, scaling=0.25)
    assert torch.equal(ak.windowed_attention(mod, q, k, v, None, scaling=0.25, sliding_window=None)[0], ref)
    short = [t[:, :, :WINDOW] for t in (q, k, v)]                         # the window covers every key
    assert torch.equal(ak.windowed_attention(mod, *short, None, scaling=0.25, sliding_window=WINDOW)[0],
                       sdpa_attention_forward(mod, *short, None, scaling=0.25)[0])
    mask = causal_mask(40, window=WINDOW)[None, None]
    assert torch.equal(ak.windowed_attention(mod, q, k, v, mask, scaling=0.25, sliding_window=WINDOW)[0],
                       sdpa_attention_forward(mod, q, k, v, mask, scaling=0.25)[0])


def test_mask_is_left_out_only_for_a_plain_window():
    kw = dict(batch_size=1, q_length=20, kv_length=20, mask_function=sliding_window_causal_mask_function(WINDOW),
              local_size=WINDOW, allow_is_causal_skip=True)
    assert ak.windowed_mask(**kw) is None
    padded = torch.ones(1, 20, dtype=torch.bool)
    padded[0, :3] = False
    for change in ({"attention_mask": padded}, {"allow_is_causal_skip": False}, {"q_offset": 4},
                   {"q_length": 1}):
        got, ref = ak.windowed_mask(**{**kw, **change}), sdpa_mask(**{**kw, **change})
        assert got is not None and torch.equal(got, ref), change
    glob = {k: v for k, v in kw.items() if k not in ("local_size", "mask_function")}   # a global layer
    assert ak.windowed_mask(**glob) is None and sdpa_mask(**glob) is None          # SDPA's is_causal
    assert torch.equal(ak.windowed_mask(**glob, attention_mask=padded), sdpa_mask(**glob, attention_mask=padded))


def test_only_sliding_gemma_configs_pick_it():
    assert ak.implementation_for(Gemma3TextConfig(sliding_window=WINDOW)) == ak.WINDOWED
    assert ak.implementation_for(Gemma3TextConfig(layer_types=["full_attention"] * 26)) == "sdpa"
    assert ak.implementation_for(LlamaConfig()) == "sdpa"
    assert models.load("smollm2-135m").config._attn_implementation == "sdpa"
    assert models.load("gemma3-270m").config._attn_implementation == ak.WINDOWED


def _tiny_pair():
    cfg = Gemma3TextConfig(vocab_size=128, hidden_size=64, intermediate_size=96, num_hidden_layers=6,
                           num_attention_heads=4, num_key_value_heads=2, head_dim=16, sliding_window=WINDOW,
                           max_position_embeddings=256)
    torch.manual_seed(0)
    plain = AutoModelForCausalLM.from_config(cfg, attn_implementation="sdpa").eval()
    windowed = AutoModelForCausalLM.from_config(cfg, attn_implementation=ak.WINDOWED).eval()
    windowed.load_state_dict(plain.state_dict())
    return plain, windowed


@torch.inference_mode()
def test_tiny_gemma_hidden_states_equal_plain_sdpa():
    plain, windowed = _tiny_pair()
    assert plain.config.layer_types.count("sliding_attention") == 5
    ids = torch.randint(0, 128, (1, 5 * WINDOW + 3), generator=torch.Generator().manual_seed(1))
    a = plain.model(input_ids=ids, output_hidden_states=True, use_cache=False).hidden_states
    b = windowed.model(input_ids=ids, output_hidden_states=True, use_cache=False).hidden_states
    for layer, (x, y) in enumerate(zip(a, b)):
        assert float((x - y).abs().max()) <= 1e-5 * max(1.0, float(x.abs().max())), layer
    # a padded batch and cached generation take HF's masks: the same tokens either way
    pad = torch.ones(2, ids.shape[1], dtype=torch.long)
    pad[1, :4] = 0
    batch = ids.expand(2, -1)
    x = plain(input_ids=batch, attention_mask=pad).logits
    y = windowed(input_ids=batch, attention_mask=pad).logits
    assert float((x - y).abs().max()) < 1e-4
    assert torch.equal(plain.generate(ids, max_new_tokens=6, do_sample=False),
                       windowed.generate(ids, max_new_tokens=6, do_sample=False))


@torch.inference_mode()
def test_real_gemma_past_its_window_equals_plain_sdpa():
    """600 tokens of real text through the bundled Gemma 3 (window 512) against a separate plain
    SDPA copy: every hidden state, and the next-token logits."""
    name = "gemma3-270m"
    res = models.run(name, attention.corpus_text(name, 600))
    assert res.n_tokens > models.load(name).config.sliding_window
    plain = AutoModelForCausalLM.from_pretrained(models.gemma_dir(), dtype=torch.float32,
                                                 attn_implementation="sdpa").eval()
    out = plain(torch.tensor([res.ids]), output_hidden_states=True, use_cache=False, logits_to_keep=1)
    for layer, (x, y) in enumerate(zip(res.hidden_states, out.hidden_states)):
        assert float((x - y[0]).abs().max()) <= 1e-5 * float(y.abs().max()), layer
    assert float((res.next_logits - out.logits[0, -1]).abs().max()) < 1e-3
