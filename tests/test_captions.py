"""Each page's caption, checked on its default input with the real bundled models (issue #18).

What a page says its default shows must be what the default shows: the attention page's head
attends to the previous token, word2vec's loss falls and its analogy works, CLIP's zero-shot
top-1 on the default image is right, the contextual cosine falls with depth, the KV and MLA
curves grow with visibly different slopes, the Chinchilla text matches its numbers, BPE says
why it stopped. Every check here could fail if a default changed.
"""
import numpy as np
import pytest

from core.attention import defaults as head_defaults
from core.attention import heads, sink
from core.figures import attention as afx
from core.figures import axes
from core.figures import efficiency as fx
from core.figures import embeddings as efx
from core.runtime import models

ATTN_TEXT = "The cat sat on the mat because it was tired. Then the cat slept."    # pages/attention.py
HOME_TEXT = "The capital of France is"                                         # pages/home.py, tour step 1


@pytest.fixture(scope="module")
def smol():
    return models.run(models.DEFAULT_CAUSAL, ATTN_TEXT)


@pytest.mark.parametrize("text", [ATTN_TEXT, HOME_TEXT])
def test_default_head_top_key_is_the_previous_token(text):
    res = models.run(models.DEFAULT_CAUSAL, text)
    layer, head = head_defaults.previous_token_head(models.DEFAULT_CAUSAL, res.n_layers, 9)
    w = heads.head_weights(res, layer, head).cpu().numpy()
    n = len(w)
    assert (w[1:].argmax(1) == np.arange(n - 1)).all()           # every query's top key: the one before it
    assert np.diag(w, -1).mean() > 0.6


def test_the_sink_and_its_massive_activation_are_there(smol):
    """What the attention page's sink note says: token 0's residual norm spikes to ~22k."""
    prof = sink.profile(smol)
    assert prof.peak_norm > 10_000 and prof.ratio > 50 and 1 <= prof.peak_layer < smol.n_layers - 1
    sink_heads = [(l, h) for l in range(smol.n_layers) for h in range(9)
                  if heads.head_weights(smol, l, h)[1:, 0].mean() > 0.5]
    assert len(sink_heads) > 30                                   # "many heads park their weight on token 0"


def test_rollout_with_the_sink_discounted_is_a_distribution():
    roll = np.array([[1, 0, 0], [0.9, 0.1, 0], [0.96, 0.01, 0.03]])
    d = sink.discount_first(roll)
    assert d[0].sum() == 0 and np.allclose(d[1:].sum(1), 1) and d[2].argmax() == 2


def test_top_keys_list_only_keys_the_query_can_see(smol):
    layer, head = head_defaults.previous_token_head(models.DEFAULT_CAUSAL, smol.n_layers, 9)
    w = heads.head_weights(smol, layer, head).cpu().numpy()
    q = 5
    visible = heads.mask_for(smol, layer)[q].cpu().numpy()
    fig = afx.row_bars(w[q], smol.tokens, q, visible=visible)
    shown = [int(s.split(":")[0]) for s in fig.data[0].y]
    assert shown and max(shown) <= q and len(shown) == q + 1
    assert len(afx.row_bars(w[q], smol.tokens, q).data[0].y) == 16    # without the mask, future keys at 0 appear


def test_masked_cells_are_drawn_one_way_at_every_length():
    w = np.tril(np.full((6, 6), 1 / 6))
    short = afx.head_heatmap(w, [f"t{i}" for i in range(6)])
    z = np.array(short.data[0].z, dtype=float)
    assert np.isnan(z[np.triu_indices(6, 1)]).all() and short.layout.plot_bgcolor == afx.MASKED_GREY
    long = np.tril(np.ones((200, 200))) / np.arange(1, 201)[:, None]
    img = afx.head_heatmap(long, [f"t{i}" for i in range(200)])
    from PIL import Image
    import base64
    import io
    px = np.array(Image.open(io.BytesIO(base64.b64decode(img.data[0].source.split(",", 1)[1]))))
    assert (px[0, -1] == 240).all()                               # the same light grey as MASKED_GREY


def test_word2vec_defaults_train_sensibly_on_the_bundled_corpus():
    from core.text import glove, word2vec
    res = word2vec.train(word2vec.sentences_from_text(word2vec.bundled_text()), word2vec.DEFAULT)
    loss = res.epoch_loss
    assert loss[-1] < 0.7 * loss[0] and all(b < a for a, b in zip(loss[:-1], loss[1:]))
    near = [w for w, _ in glove.nearest(word2vec.DEFAULT_WORD, 5, res.kv)]
    assert "taliban" in near
    a, b, c = word2vec.DEFAULT_ANALOGY
    assert glove.analogy([a, c], [b], 1, res.kv)[0][0] == word2vec.DEFAULT_ANSWER


def test_clip_default_zero_shot_is_right():
    from core.vision import clip, vit
    c = clip.load(clip.TINY)
    emb = clip.embed_images([vit.open_image("synthetic scene 1", None)], c)[0]
    zs = clip.zero_shot(emb, list(clip.DEFAULT_CLASSES), [clip.TEMPLATES[t] for t in clip.DEFAULT_TEMPLATES], c)
    assert zs.classes[int(zs.probs.argmax())] == "purple square"


def test_contextual_cosine_falls_with_depth_and_the_colour_scale_fits():
    from core.text import contextual as ctx
    r = ctx.compare(ctx.DEFAULT_WORD, list(ctx.DEFAULT_SENTENCES), model_names=("minilm-l6", "smollm2-135m"))
    for mv in r.models.values():
        spread = mv.mean_offdiag()
        assert spread[-1] < spread[0] - 0.05
    mats = {n: mv.cosine[-1] for n, mv in r.models.items()}
    lo = efx.cosine_floor(mats)
    low = min(float(m.min()) for m in mats.values())
    assert low - 0.05 <= lo <= low and lo > -1                     # fitted to the data, not −1..1
    fig = efx.cosine_matrices(mats, [f"S{i}" for i in range(5)])
    assert fig.data[0].zmin == lo and fig.data[0].zmax == 1


def test_kv_slopes_differ_and_mla_grows_over_the_default_range():
    from core.efficiency import kv_cache as kc
    from core.efficiency import mla
    p = kc.presets(include_registry=False)
    slope = {n: kc.cache_bytes(p[n], 2048) - kc.cache_bytes(p[n], 1024) for n in ("Llama-2-7B", "DeepSeek-V3")}
    assert slope["Llama-2-7B"] > 5 * slope["DeepSeek-V3"] > 0    # on linear axes: a visibly smaller slope
    run = mla.decode("MLA naive", mla.PRESETS["small (fast)"], 8, 96)   # the page's default range
    assert run.cache_bytes[-1] >= 10 * run.cache_bytes[0]
    fig = fx.measured_cache_figure({"MLA": (run.seq_lens, run.cache_bytes, run.cache_bytes)})
    assert fig.layout.xaxis.rangemode == "tozero"


def test_sparse_mask_axes_cover_exactly_the_sequence_and_show_a_global_token():
    from core.efficiency import patterns as sparse
    p = sparse.build("longformer", 4096, **sparse.DEFAULTS["longformer"])
    grid, f = fx.downsample_mask(p.mask)
    fig = fx.grid_figure(grid, f)
    assert list(fig.layout.xaxis.range) == [-f / 2, 4096 - f / 2] and fig.layout.xaxis.constrain == "domain"
    assert [sh.x0 for sh in fig.layout.shapes if sh.x0 == sh.x1] == [0]      # the global key, marked
    pos = [v for v, _ in fx.SPARSE_SCALE]
    assert np.interp(1 / 16, pos, np.linspace(0, 1, len(pos))) >= 0.25   # one kept column in 16: mid-tone


def test_chinchilla_text_agrees_with_the_numbers():
    from core.scaling import laws
    n, d = laws.compute_optimal(np.array([1e21, 1e23]), "hoffmann")
    assert (d / n > 40).all()                                      # Approach 3: well above 20
    n, d = laws.compute_optimal(np.array([1e21, 1e23]), "epoch")
    assert (np.abs(d / n - 20) < 8).all()                          # the refit: ≈ 20, as the text says


def test_fit_your_runs_default_recovers_a_positive_alpha():
    from core.runtime.paths import ASSETS
    from core.scaling import fit
    runs = fit.read_runs_csv((ASSETS / "scaling" / "example_runs.csv").read_bytes())
    f = fit.fit_chinchilla_form(runs["N"], runs["D"], runs["loss"], n_boot=5)
    assert 0.25 < f.alpha < 0.45 and 0.25 < f.beta < 0.5
    top = runs[runs["D"] == runs["D"].max()]
    assert fit.fit_power_law(top["N"], top["loss"], n_boot=20).exponent < 0   # the sign the caption explains


def test_bpe_says_why_it_stopped():
    from core.text import bpe
    rep = bpe.train("aa ab ab", bpe.BPEConfig(n_merges=50))
    assert len(rep.steps) < 50 and "no adjacent pair" in rep.stop_reason
    assert "asked for" in bpe.train("the cat the hat", bpe.BPEConfig(n_merges=2)).stop_reason


def test_log_axes_read_in_powers_of_ten():
    fig = fx.loglog([256, 1024, 4096, 16384], {"a": [1, 10, 100, 1000]}, x_title="T", y_title="ms")
    assert fig.layout.xaxis.dtick == 1 and fig.layout.xaxis.exponentformat == "power"
    narrow = axes.readable_log_axes(fx.loglog([128, 144], {"a": [2, 3]}, x_title="T", y_title="ms"))
    assert narrow.layout.xaxis.dtick is None and narrow.layout.xaxis.exponentformat == "none"


def test_home_head_caption_names_the_previous_token_on_the_default_sentence():
    """Home opens on the same measured head, and its caption says what the map shows."""
    from pages.ui.home_sections import head_caption
    res = models.run(models.DEFAULT_CAUSAL, HOME_TEXT)
    layer, head = head_defaults.previous_token_head(models.DEFAULT_CAUSAL, res.n_layers, 9)
    w = heads.head_weights(res, layer, head).cpu().numpy()
    text = head_caption(w, res.tokens, layer, head, (layer, head))
    assert f"on “{res.tokens[-2]}”, the token just before it" in text and "previous-token head" in text
    sink_like = np.tril(np.ones((5, 5)))
    sink_like[:, 0] = 10
    assert "attention sink" in head_caption(sink_like / sink_like.sum(1, keepdims=True), res.tokens, 3, 0, (layer, head))


def test_kv_tradeoff_text_agrees_with_the_count():
    """The KV page says absorbed needs fewer multiply-adds past a few keys, and naive for a prefill chunk."""
    from core.efficiency import mla, mla_tradeoff
    cfg = mla.PRESETS["small (fast)"]
    assert mla_tradeoff.macs_ratio(cfg, 1, 1024) > 10 > 1 > mla_tradeoff.macs_ratio(cfg, 1, 0, queries=512)
