"""The model map's torch-free inputs (core.runtime.describe) equal what the live model gives: every
bundled model's stored description equals its adapter's ``architecture()``, and the token count from
tokenizer.json equals ``models.encode``'s on sentences with specials, bytes and literal special text."""
import json
import subprocess
import sys

import pytest

from core.runtime import architecture, describe, models, registry
from core.runtime.errors import InputError
from core.runtime.paths import REPO

NAMES = [*registry.BUNDLED, *registry.SPEECH]
SENTENCES = ["The capital of France is", " x", "Hello, world!\nA second line\twith a tab.",
             "日本語のテキスト 🤖 émigré naïve", "<bos> literal <s> </s> [CLS] <|endoftext|>", "a" * 300,
             "   leading and trailing spaces   "]


@pytest.fixture(scope="module", params=NAMES)
def name(request):
    return request.param


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    """Descriptions are written into a fresh folder; the models stay where they are prepared."""
    real = {n: describe.model_dir(n) for n in NAMES}
    monkeypatch.setattr(describe, "model_dir", lambda n: real[n])
    monkeypatch.setattr(describe, "cache_dir", lambda: tmp_path)


def test_stored_description_equals_the_live_adapter(name):
    assert describe.stored(name) is None                       # nothing stored yet in this folder
    live = models.load(name).adapter.architecture()
    assert describe.live(name) == live
    assert describe.stored(name) == live                       # read back from JSON, equal field by field
    assert describe.architecture(name) == live


def test_json_round_trip_is_exact(name):
    arch = models.load(name).adapter.architecture()
    assert architecture.from_dict(json.loads(json.dumps(architecture.to_dict(arch)))) == arch


def test_a_stale_or_foreign_description_is_never_used(name, tmp_path):
    live = describe.live(name)
    path = tmp_path / "descriptions" / f"{name}.json"
    data = json.loads(path.read_text())
    data["architecture"]["family"] = "edited"
    path.write_text(json.dumps({**data, "key": "0" * 64}))     # an old key: ignored, rewritten live
    assert describe.stored(name) is None
    assert describe.architecture(name) == live
    assert json.loads(path.read_text())["key"] == describe.key(name)
    path.write_text("{not json")
    assert describe.stored(name) is None


def test_the_key_follows_the_adapter_source(name, monkeypatch, tmp_path):
    before = describe.key(name)
    extra = tmp_path / "extra.py"
    extra.write_text("# a changed adapter\n")
    monkeypatch.setattr(describe, "_SOURCES", [*describe._SOURCES, extra])
    assert describe.key(name) != before


@pytest.mark.parametrize("text", SENTENCES)
def test_token_count_equals_encode(name, text):
    assert describe.n_tokens(name, text) == len(models.encode(models.load(name), text)["ids"])


def test_gemma_counts_its_bos():
    tok = models.load("gemma3-270m").tokenizer
    ids = models.encode(models.load("gemma3-270m"), "Hi")["ids"]
    assert ids[0] == tok.bos_token_id and describe.n_tokens("gemma3-270m", "Hi") == len(ids)


def _refusal(fn) -> str:
    with pytest.raises(InputError) as err:
        fn()
    return str(err.value)


@pytest.mark.parametrize("text", ["", "   ", "x" * 200_000, "😀 " * 20_000])
def test_token_count_refuses_as_encode_does(text):
    lm = models.load(registry.DEFAULT_CAUSAL)
    assert _refusal(lambda: describe.n_tokens(lm.spec.name, text)) == _refusal(lambda: models.encode(lm, text))


def test_a_stored_description_and_count_need_no_torch(monkeypatch):
    """In a fresh process: the default model's map inputs (prepared by `make`) import neither
    torch nor transformers."""
    monkeypatch.undo()                                          # the real cache, as the app reads it
    code = ("import sys; from core.runtime import describe, registry; from core.figures import model_map\n"
            "a = describe.stored(registry.DEFAULT_CAUSAL); assert a is not None, 'not prepared'\n"
            "model_map.model_map(a, describe.n_tokens(registry.DEFAULT_CAUSAL, 'The capital of France is'))\n"
            "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))")
    describe.architecture(registry.DEFAULT_CAUSAL)              # stored in the real cache if missing
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
