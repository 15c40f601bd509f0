"""Next-token prediction: sampling controls, refused settings, reproducible generation, KV cache size."""
import math

import pytest
import torch

from core.text import generation
from core.runtime import models
from core.runtime.errors import InputError

SMOL = models.DEFAULT_CAUSAL
PROMPT = "The capital of France is"


def test_distribution_paris():
    d = generation.next_token_distribution(SMOL, PROMPT)
    assert d.tokens[0] == " Paris" and 0.6 < d.raw[0] < 0.9
    assert d.kept == models.load(SMOL).config.vocab_size          # no cut at T=1 without top-k/p
    assert float(d.full.sum()) == pytest.approx(1.0, abs=1e-5)


def test_temperature_zero_is_greedy():
    d = generation.next_token_distribution(SMOL, PROMPT, temperature=0)
    assert d.greedy and d.kept == 1 and d.processed[0] == 1.0 and d.tokens[0] == " Paris"


@pytest.mark.parametrize("top_p", [0, -0.1, 1.5, float("nan")])
def test_top_p_outside_unit_interval_refused(top_p):
    with pytest.raises(InputError, match=r"top-p must lie in \(0, 1\]"):
        generation.next_token_distribution(SMOL, PROMPT, top_p=top_p)


def test_negative_temperature_refused():
    with pytest.raises(InputError, match="Temperature"):
        generation.process(torch.zeros(5), temperature=-1)


def test_top_k_and_top_p_cut_exactly():
    logits = torch.log(torch.tensor([0.5, 0.2, 0.15, 0.1, 0.05]))
    _, p = generation.process(logits, top_k=2)
    assert torch.allclose(p, torch.tensor([0.5, 0.2, 0, 0, 0]) / 0.7)
    _, p = generation.process(logits, top_p=0.7)                   # 0.5 < 0.7, 0.5+0.2 reaches it
    assert (p > 0).sum() == 2
    _, p = generation.process(logits, top_p=0.71)
    assert (p > 0).sum() == 3
    _, p = generation.process(logits, top_p=0.01)                  # always keeps the most likely
    assert (p > 0).sum() == 1
    tempered, _ = generation.process(logits, temperature=2.0)
    assert tempered[0] < 0.5 and float(tempered.sum()) == pytest.approx(1.0)


def test_generation_reproducible_and_kv_cache_measured():
    cfg = generation.SamplingConfig(temperature=1.0, top_k=40, top_p=0.95, seed=7, max_new_tokens=4)
    a = generation.generate_steps(SMOL, PROMPT, cfg)
    b = generation.generate_steps(SMOL, PROMPT, cfg)
    assert [s.drawn_id for s in a] == [s.drawn_id for s in b]
    per_token = models.cache_bytes_per_token(SMOL)
    assert per_token == 2 * 30 * 3 * 64 * 4
    n_prompt = len(models.run(SMOL, PROMPT).ids)
    for s in a:
        assert s.cache_bytes == s.cache_bytes_formula == (n_prompt + s.step) * per_token
        assert s.dist.processed[0] > 0 and s.drawn_p > 0
    table = generation.steps_table(a)
    assert list(table["cached positions"]) == [n_prompt + i for i in range(len(a))]


def test_greedy_generation_ignores_seed():
    run = lambda seed: [s.drawn for s in generation.generate_steps(   # noqa: E731
        SMOL, PROMPT, generation.SamplingConfig(temperature=0, seed=seed, max_new_tokens=3))]
    assert run(1) == run(2) and run(1)[0] == " Paris"


def test_teacher_forcing_matches_run():
    res = models.run(SMOL, "The capital of France is Paris.")
    tf = generation.teacher_forcing(res)
    assert len(tf) == res.n_tokens - 1
    assert tf["loss (nats)"].tolist() == pytest.approx((-res.token_logprobs).tolist(), abs=1e-6)
    paris = tf[tf["actual next"] == " Paris"].iloc[0]
    assert paris["p(actual)"] == pytest.approx(math.exp(-paris["loss (nats)"]))
    assert paris["in top 10"] and paris["top predictions"].startswith("' Paris'")


def test_encoder_refused():
    with pytest.raises(InputError, match="bidirectional"):
        generation.next_token_distribution(models.DEFAULT_ENCODER, "hello")
