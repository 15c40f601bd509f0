"""Unit tests of the engine: device choice, registry sources, real outputs, lazy attention."""
import hashlib

import pytest
import torch

from core.attention import heads as attention
from core.runtime import device
from core.runtime import limits
from core.runtime import models
from core.runtime.errors import InputError, ModelUnavailable


def test_device_override(monkeypatch):
    monkeypatch.setenv("ATLAS_DEVICE", "cpu")
    assert device.get_device().type == "cpu"
    if not torch.cuda.is_available():
        monkeypatch.setenv("ATLAS_DEVICE", "cuda")
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            device.get_device()


def test_smollm_paris():
    res = models.run("smollm2-135m", "The capital of France is")
    tok = models.load("smollm2-135m").tokenizer
    assert tok.decode([int(res.topk_ids[-1, 0])]) == " Paris"
    assert 0.5 < float(res.topk_probs[-1, 0]) < 0.95
    assert res.tokens == ["The", " capital", " of", " France", " is"]
    assert [res.text[s:e] for s, e in res.spans] == res.tokens
    assert res.n_layers == 30 and res.hidden_states[0].shape == (5, 576)
    # teacher forcing: log p of each actual next token, one per position but the last
    assert res.token_logprobs.shape == (4,) and bool((res.token_logprobs <= 0).all())


def test_minilm_is_encoder_with_specials():
    res = models.run("minilm-l6", "A river bank.")
    assert not res.causal and res.next_logits is None
    assert res.tokens[0] == "[CLS]" and res.tokens[-1] == "[SEP]"
    w = attention.head_weights(res, 2, 5)
    assert torch.triu(w, 1).sum() > 0.01          # bidirectional: attends to later tokens


def _weights_digest(model) -> str:
    h = hashlib.sha1()
    for p in list(model.parameters())[:5]:
        h.update(p.detach().cpu().numpy().tobytes())
    return h.hexdigest()


def _hooks(model) -> set:
    """Every hook on every module. transformers 5 installs its own output-capture hooks once;
    the engine must add none of its own."""
    return {(name, kind, id(fn)) for name, m in model.named_modules()
            for kind, d in (("fwd", m._forward_hooks), ("pre", m._forward_pre_hooks)) for fn in d.values()}


def test_shared_model_not_mutated_and_no_hooks():
    lm = models.load("smollm2-135m")
    models.run("smollm2-135m", "warm up")      # lets transformers install its own capture hooks
    before, hooks = _weights_digest(lm.model), _hooks(lm.model)
    res = models.run("smollm2-135m", "Hello there, general")
    attention.head_weights(res, 5, 4)
    assert _weights_digest(lm.model) == before
    assert _hooks(lm.model) == hooks
    assert lm.model.config._attn_implementation == "sdpa"
    assert not lm.model.training


def test_gqa_head_mapping():
    cfg = models.load("smollm2-135m").config
    shp = attention.head_shape(cfg)
    assert (shp["n_heads"], shp["n_kv_heads"], shp["group"]) == (9, 3, 3)
    assert [attention.kv_head_of(cfg, h) for h in range(9)] == [0, 0, 0, 1, 1, 1, 2, 2, 2]


def _save_tiny(tmp_path, kind: str):
    """A tiny random model of each supported family, saved to a local folder with a tokenizer."""
    from transformers import (AutoTokenizer, BertConfig, BertModel, GPT2Config, GPT2LMHeadModel,
                              LlamaConfig, LlamaForCausalLM)
    torch.manual_seed(0)
    if kind == "bert":
        tok = AutoTokenizer.from_pretrained(models.minilm_dir())
        model = BertModel(BertConfig(vocab_size=tok.vocab_size, hidden_size=32, num_hidden_layers=2,
                                     num_attention_heads=4, intermediate_size=64))
    else:
        tok = AutoTokenizer.from_pretrained(models.smollm_dir())
        if kind == "gpt2":
            model = GPT2LMHeadModel(GPT2Config(vocab_size=len(tok), n_embd=32, n_layer=2, n_head=4))
        else:
            model = LlamaForCausalLM(LlamaConfig(vocab_size=len(tok), hidden_size=48, num_hidden_layers=2,
                                                 num_attention_heads=6, num_key_value_heads=2,
                                                 intermediate_size=64))
    path = tmp_path / kind
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


@pytest.mark.parametrize("kind", ["llama", "gpt2", "bert"])
def test_lazy_weights_equal_eager_on_tiny_random(tmp_path, kind):
    from transformers import AutoModel, AutoModelForCausalLM
    path = _save_tiny(tmp_path, kind)
    res = models.run(str(path), "tiny models check shapes")
    assert models.load(str(path)).spec.source == "local"
    auto = AutoModel if kind == "bert" else AutoModelForCausalLM
    eager = auto.from_pretrained(path, attn_implementation="eager").eval()
    out = eager(torch.tensor([res.ids]), output_attentions=True)
    assert len(out.attentions) == 2
    for layer in range(2):
        for head in range(eager.config.num_attention_heads):
            w = attention.head_weights(res, layer, head)
            assert w.shape == (res.n_tokens, res.n_tokens)
            torch.testing.assert_close(w.sum(-1), torch.ones(res.n_tokens))
            torch.testing.assert_close(w, out.attentions[layer][0, head], atol=1e-5, rtol=1e-4)
    if kind != "bert":
        assert float(torch.triu(attention.head_weights(res, 0, 0), 1).abs().max()) == 0.0


def test_hub_id_offline_gives_message():
    with pytest.raises(ModelUnavailable, match="offline"):
        models.load("someone-not-real/tiny-model-xyz")


def test_bad_names_and_caps(monkeypatch):
    with pytest.raises(InputError):
        models.resolve("not a model id")
    with pytest.raises(InputError, match="empty"):
        models.run("smollm2-135m", "  ")
    monkeypatch.setenv("ATLAS_HOSTED", "1")
    with pytest.raises(ModelUnavailable, match="allowlist"):
        models.resolve("HuggingFaceTB/SmolLM2-360M")
    cap = limits.current().max_text_chars
    with pytest.raises(InputError, match=f"{cap:,}"):
        limits.check_text("x" * (cap + 1))


def test_conversion_is_cached_and_fast(tmp_path, monkeypatch):
    """The GGUF conversion happens once; from the cache a load takes about a second."""
    import time
    path = models.smollm_dir()
    assert (path / "model.safetensors").exists()
    models.load.cache_clear()
    t = time.perf_counter()
    models.load("smollm2-135m")
    assert time.perf_counter() - t < 30          # generous: correctness, not a benchmark
