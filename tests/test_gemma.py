"""Gemma 3 270M, bundled: its real local/global structure, outputs, parity with HF eager attention,
and a family with no adapter still running (tokens, hidden states, next token) with a plain refusal
from the attention views."""
import shutil

import pytest
import torch
from transformers import AutoModelForCausalLM, GPTNeoXConfig

from core.attention import heads as attention
from core.runtime import adapters, models
from core.runtime.errors import UnsupportedArchitecture

GEMMA = "gemma3-270m"


@pytest.fixture(scope="module")
def long_run():
    return models.run(GEMMA, attention.corpus_text(GEMMA, 600))


def test_structure_read_from_the_model():
    lm = models.load(GEMMA)
    ad = lm.adapter
    assert type(lm.model).__name__ == "Gemma3ForCausalLM" and isinstance(ad, adapters.Gemma3Adapter)
    assert 260e6 < lm.model.num_parameters() < 275e6
    assert [i for i in range(ad.n_layers) if ad.layer_type(i) == "global"] == [5, 11, 17]
    assert {ad.window(i) for i in range(18) if i % 6 != 5} == {512}
    assert ad.rope_base(0) == 10_000 and ad.rope_base(5) == 1_000_000
    assert (ad.layout.n_heads, ad.layout.n_kv_heads, ad.layout.d_head) == (4, 1, 256)
    assert next(lm.model.parameters()).dtype == torch.float32


def test_next_tokens_are_the_models():
    res = models.run(GEMMA, "The capital of France is")
    tok = models.load(GEMMA).tokenizer
    top = [tok.decode([int(i)]) for i in res.topk_ids[-1, :3]]
    assert res.tokens[0] == "<bos>" and top[:2] == [" the", " a"] and " Paris" in top
    assert float(res.topk_probs[-1, 0]) == pytest.approx(0.19, abs=0.03)
    lazy = models.run(GEMMA, "The quick brown fox jumps over the lazy")
    assert tok.decode([int(lazy.topk_ids[-1, 0])]) == " dog" and float(lazy.topk_probs[-1, 0]) > 0.7


def test_recomputed_weights_equal_eager_on_the_real_model(long_run):
    """A separate eager copy (the shared model is never switched to eager): every head of a local
    and a global layer, 600 real tokens."""
    eager = AutoModelForCausalLM.from_pretrained(models.gemma_dir(), dtype=torch.float32,
                                                 attn_implementation="eager").eval()
    with torch.inference_mode():
        out = eager(torch.tensor([long_run.ids]), output_attentions=True)
    for layer in (0, 5):
        w = attention.layer_weights(long_run, layer)
        assert float((w - out.attentions[layer][0]).abs().max()) < 1e-5, layer


def test_the_band_is_exact_on_real_text(long_run):
    n = long_run.n_tokens
    local, glob = attention.head_weights(long_run, 0, 0), attention.head_weights(long_run, 5, 0)
    far = ~attention.mask_for(long_run, 0) & attention.subsequent_mask(n)   # visible to a causal mask only
    assert int(far.sum()) > 0 and float(local[far].abs().max()) == 0.0
    assert float(glob[far].sum()) > 1.0                                      # a global layer reads them
    assert attention.layer_kind(long_run, 0) == "local (window 512)"
    assert attention.layer_kind(long_run, 5) == "global"


def test_an_architecture_without_adapter_runs_and_is_refused_plainly(tmp_path):
    cfg = GPTNeoXConfig(vocab_size=49152, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=64, architectures=["GPTNeoXForCausalLM"])
    AutoModelForCausalLM.from_config(cfg).save_pretrained(tmp_path)
    for f in models.smollm_dir().glob("*token*"):                            # a fast tokenizer
        shutil.copy(f, tmp_path / f.name)
    res = models.run(str(tmp_path), "Hello there")
    assert res.causal and res.n_layers == 2 and res.next_logits.shape == (49152,)
    assert not res.model.supported
    with pytest.raises(UnsupportedArchitecture, match="gpt_neox"):
        attention.head_weights(res, 0, 0)
