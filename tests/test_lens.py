"""The lenses: logit lens, direct logit attribution, ablation, activation patching and MLP neurons,
on the bundled SmolLM2 and Gemma 3 and on tiny random models saved to a local folder."""
import copy
import shutil

import numpy as np
import pytest
import torch
from transformers import AutoModelForCausalLM, Gemma3TextConfig

from core import lens
from core.runtime import models
from core.runtime.errors import InputError

SMOL, GEMMA = "smollm2-135m", "gemma3-270m"
TEXT = "The capital of France is"


def _tiny(tmp_path, zero_head: tuple[int, int] | None = None) -> str:
    """A tiny random Gemma 3 (2 local + 1 global layer) with SmolLM2's tokenizer, in a folder."""
    torch.manual_seed(1)
    cfg = Gemma3TextConfig(vocab_size=49152, hidden_size=32, intermediate_size=64, num_hidden_layers=3,
                           num_attention_heads=4, num_key_value_heads=2, head_dim=8, sliding_window=4,
                           layer_types=["sliding_attention", "sliding_attention", "full_attention"],
                           architectures=["Gemma3ForCausalLM"])
    m = AutoModelForCausalLM.from_config(cfg)
    for p in m.parameters():
        if p.dim() == 1:
            p.data.normal_(0, 0.3)
    if zero_head:
        layer, head = zero_head
        m.model.layers[layer].self_attn.o_proj.weight.data[:, head * 8:(head + 1) * 8] = 0
    m.save_pretrained(tmp_path)
    for f in models.smollm_dir().glob("*token*"):
        shutil.copy(f, tmp_path / f.name)
    return str(tmp_path)


def _fingerprint(name):
    lm = models.load(name)
    hooks = sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in lm.model.modules())
    return hooks, float(sum(p.double().sum() for p in lm.model.parameters()))


@pytest.mark.parametrize("name", [SMOL, GEMMA])
def test_logit_lens_last_row_is_the_models_output(name):
    res = models.run(name, TEXT)
    ll = lens.logit_lens(res, k=5)
    assert ll.ids.shape == (res.n_layers + 1, res.n_tokens, 5) and ll.probs.shape == ll.ids.shape
    own = torch.softmax(res.next_logits.float(), -1)
    p, i = own.topk(5)
    assert ll.ids[-1, -1].tolist() == i.tolist()
    assert np.allclose(ll.probs[-1, -1], p.numpy(), atol=1e-5)
    assert ll.final_prob_by_depth[-1] == pytest.approx(float(p[0]), abs=1e-5)
    assert ll.tokens[-1][-1][0] == ll.final_token


@pytest.mark.parametrize("name", [SMOL, GEMMA])
def test_contributions_sum_to_the_real_logit(name):
    res = models.run(name, TEXT)
    df = lens.contributions(res)
    real = float(res.next_logits[df.attrs["target_id"]])
    assert df.attrs["target_id"] == int(res.next_logits.argmax())
    parts = df[df.component.isin(["embed", "attn", "mlp", "bias"])]
    assert parts.logit.sum() == pytest.approx(real, abs=1e-3)
    for layer, g in df[df.component == "head"].groupby("layer"):
        attn = df[(df.component == "attn") & (df.layer == layer)].logit.iloc[0]
        assert g.logit.sum() == pytest.approx(attn, abs=1e-4), layer
    assert set(df.columns) == {"component", "layer", "head", "logit"}


def test_target_must_be_one_token():
    res = models.run(SMOL, TEXT)
    with pytest.raises(InputError, match="not a single token"):
        lens.contributions(res, target=" Parisian capital")
    assert lens.contributions(res, target=" Rome").attrs["target"] == " Rome"


def test_patching_restores_exactly_one_where_the_prompts_differ():
    pt = lens.patch(SMOL, "The capital of France is", "The capital of Italy is")
    diff = [i for i, (a, b) in enumerate(zip(pt.clean_tokens, pt.corrupted_tokens)) if a != b]
    assert diff == [3] and pt.grid.shape == (30, 5)
    assert pt.grid[0, 3] == 1.0                               # the embeddings made identical to clean
    assert (pt.grid[0, [0, 1, 2, 4]] == 0.0).all()            # a patch that changes nothing
    assert pt.clean_answer == " Paris" and pt.m_clean > pt.m_corrupted
    assert "position" in pt.where()


def test_patching_refuses_prompts_of_different_lengths():
    with pytest.raises(InputError, match="clean one has 9, the corrupted one 8"):
        lens.patch(SMOL, "The Eiffel Tower is in the city of", "The Colosseum is in the city")


def test_zero_ablation_equals_a_pre_hook_on_a_separate_copy(tmp_path):
    path = _tiny(tmp_path)
    text = "The cat sat on the mat and then it"
    ab = lens.ablate(path, text, layer=1, head=2)
    twin = copy.deepcopy(models.load(path).model)             # a separate copy carries the hook
    o_proj = twin.model.layers[1].self_attn.o_proj

    def zero_head(module, args):
        x = args[0].clone()
        x[..., 2 * 8:3 * 8] = 0
        return (x,)
    handle = o_proj.register_forward_pre_hook(zero_head)
    with torch.inference_mode():
        ids = torch.tensor([models.run(path, text).ids])
        hooked = torch.softmax(twin(ids).logits[0, -1].float(), -1)
    handle.remove()
    p, i = hooked.topk(5)
    assert np.allclose(ab.after.p.to_numpy(), p.numpy(), atol=1e-5)
    assert ab.kl > 0 and "set to 0" in ab.note


def test_ablating_a_head_that_writes_nothing_changes_nothing(tmp_path):
    path = _tiny(tmp_path, zero_head=(2, 1))
    ab = lens.ablate(path, "The cat sat on the mat", layer=2, head=1)
    assert ab.kl < 1e-9 and ab.before.equals(ab.after)
    mean = lens.ablate(path, "The cat sat on the mat", layer=0, part="mlp", how="mean")
    assert "mean over the positions of this input" in mean.note and mean.kl > 0


def test_sweep_and_neurons_on_smollm2():
    sweep = lens.ablation_sweep(SMOL, TEXT, layer=20)
    assert len(sweep) == 10 and (sweep.kl >= 0).all()
    res = models.run(SMOL, TEXT)
    nd = lens.mlp_neurons(res, layer=20, position=-1, k=10)
    assert list(nd.columns) == ["neuron", "gate", "up", "act", "promotes", "suppresses"] and len(nd) == 10
    lm = models.load(SMOL)
    import torch.nn.functional as F
    assert np.allclose(nd.act, F.silu(torch.tensor(nd.gate.to_numpy())) * torch.tensor(nd.up.to_numpy()), atol=1e-4)
    assert nd.act.abs().is_monotonic_decreasing
    assert lm.config.hidden_act == "silu"


def test_a_negative_activation_flips_what_a_neuron_promotes():
    """promotes/suppresses describe the neuron's actual write act x column, so for act < 0 they
    are the column's own bottom and top tokens."""
    res = models.run(SMOL, TEXT)
    nd = lens.mlp_neurons(res, layer=20, k=20, n_tokens=1)
    neg = nd[nd.act < 0].iloc[0]
    ad = res.adapter
    col = ad.mlp_directions(20)[int(neg.neuron)]
    norm_w = ad.base.norm.weight
    logits = ad.unembed(col * norm_w)
    tok = models.load(SMOL).tokenizer
    assert neg.promotes == repr(tok.decode([int(logits.argmin())]))
    assert neg.suppresses == repr(tok.decode([int(logits.argmax())]))


def test_lens_at_some_positions_equals_the_full_grid():
    res = models.run(SMOL, TEXT)
    full, last = lens.logit_lens(res, k=3), lens.logit_lens(res, k=3, positions=[-1, 0])
    assert np.array_equal(last.ids[:, 0], full.ids[:, -1]) and np.array_equal(last.ids[:, 1], full.ids[:, 0])
    assert np.allclose(last.probs[:, 0], full.probs[:, -1], atol=1e-6)


@pytest.mark.parametrize("name", [SMOL, GEMMA])
def test_lens_read_in_chunks_of_depths_equals_one_depth_at_a_time(name, monkeypatch):
    """Several depths through one unembedding product (the default) read what one product per depth reads."""
    import sys
    module = sys.modules["core.lens.logit_lens"]
    res = models.run(name, TEXT)
    for positions in ([-1], None):
        batched = lens.logit_lens(res, k=3, positions=positions)
        monkeypatch.setattr(module, "LOGIT_ELEMENTS", 1)          # one depth per product
        single = lens.logit_lens(res, k=3, positions=positions)
        monkeypatch.undo()
        assert batched.ids.shape == single.ids.shape == (models.load(name).config.num_hidden_layers + 1,
                                                         res.n_tokens if positions is None else 1, 3)
        assert np.array_equal(batched.ids, single.ids)
        # float32 products of other shapes sum in another order: equal to rounding, not to the bit
        assert np.allclose(batched.probs, single.probs, atol=1e-5)
        assert np.allclose(batched.final_prob_by_depth, single.final_prob_by_depth, atol=1e-5)


def test_gemma_neurons_are_geglu():
    res = models.run(GEMMA, TEXT)
    nd = lens.mlp_neurons(res, layer=5, k=5)
    gelu = torch.nn.functional.gelu(torch.tensor(nd.gate.to_numpy()), approximate="tanh")
    assert np.allclose(nd.act, gelu * torch.tensor(nd.up.to_numpy()), atol=1e-4)


def test_residual_writes_sum_like_the_attribution():
    res = models.run(SMOL, TEXT)
    rw = lens.residual_writes(res)
    df = lens.contributions(res)
    assert len(rw) == 60 and rw.attrs["target"] == " Paris"
    assert rw.logit.sum() == pytest.approx(df[df.component.isin(["attn", "mlp"])].logit.sum(), abs=1e-3)


def test_lenses_leave_the_shared_model_untouched():
    before = _fingerprint(SMOL)
    res = models.run(SMOL, TEXT)
    lens.logit_lens(res), lens.contributions(res), lens.mlp_neurons(res, 3)
    lens.ablate(SMOL, TEXT, 3, 1), lens.ablate(SMOL, TEXT, 3, part="mlp", how="mean")
    assert _fingerprint(SMOL) == before


def test_encoders_are_refused_plainly():
    with pytest.raises(InputError, match="encoder"):
        lens.logit_lens(models.run("minilm-l6", "A river bank."))
