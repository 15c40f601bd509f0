"""Bad-input corpus over every page (AppTest): each page's own URL keys are discovered from a
default run, then every key is set to one bad value at a time — as a hand-edited link or a
pasted input would — and the page must show a message or a correct result, never an exception.
Uploads (non-images, bombs, bad CSV/config.json) are driven in the browser: test_bad_uploads.py."""
import pytest

from pages.ui.nav import registered
from tests.apptest_util import problems, run_page

TEXT_BAD = {
    "empty": "",
    "100k": ("The quick brown fox. " * 5000)[:100_000],   # several keys must fit Streamlit's 512 KiB URL
    "control": "a\x00b\x07c\x1b[31mred\x7f\u200b",
    "rtl": "مرحبا بالعالم \u202eabc\u202c שלום",
    "emoji-cjk": "🙂👩‍👩‍👧 北京欢迎你 東京 서울",
    "html": "<script>alert(1)</script><img src=x onerror=alert(2)><b>bold</b>",
}
NUM_BAD = {"negative": "-1", "huge": "99999999", "word": "abc", "nan": "nan", "inf": "1e309"}
SKIP_KEYS = {"tour", "present"}


def _is_number(v: str) -> bool:
    try:
        float(v)
        return True
    except ValueError:
        return False


def _keys(info) -> list[tuple[dict, list[str], list[str]]]:
    """(base params, text keys, number keys) per view: one view, or one per tab on pages whose
    tabs are in the link (lazy tabs: a tab's keys exist only while it is open)."""
    at = run_page(info)
    assert problems(at) == []
    views = [{"tab": t.label} for t in at.tabs] if "tab" in at.query_params else [{}]
    out = []
    for base in views:
        at = run_page(info, base) if base else at
        assert problems(at) == []
        params = {k: at.query_params[k] for k in at.query_params if k not in SKIP_KEYS | set(base)}
        nums = [k for k, v in params.items() if _is_number(v)]
        out.append((base, [k for k in params if k not in nums], nums))
    return out


CASES = [(info, kind, name, value) for info in registered()
         for kind, corpus in (("text", TEXT_BAD), ("num", NUM_BAD)) for name, value in corpus.items()]


@pytest.fixture(scope="module")
def page_keys():
    cache = {}

    def get(info):
        if info.url_path not in cache:
            cache[info.url_path] = _keys(info)
        return cache[info.url_path]
    return get


@pytest.mark.parametrize("info,kind,name,value", CASES,
                         ids=[f"{c[0].url_path}-{c[1]}-{c[2]}" for c in CASES])
def test_bad_value_in_every_key(page_keys, info, kind, name, value):
    views = [(base, text if kind == "text" else num) for base, text, num in page_keys(info)]
    views = [(base, keys) for base, keys in views if keys]
    if not views:
        pytest.skip(f"{info.url_path} has no {kind} keys")
    for base, keys in views:
        _check(info, base, keys, kind, name, value)


def _check(info, base: dict, keys: list[str], kind: str, name: str, value: str) -> None:
    if name == "100k":
        keys = keys[:4]          # Streamlit drops a whole query string over 512 KiB
    at = run_page(info, {**base, **{k: value for k in keys}})
    where = f"{info.url_path} {base or ''} with {name}"
    assert problems(at) == [], f"{where}: {problems(at)}"
    body = " ".join(m.value for m in at.markdown)
    assert "Traceback" not in body
    if kind == "num" and name in ("word", "nan", "huge", "negative"):
        # a hand-edited number is either in range (used) or named in a visible message
        warned = " ".join(w.value for w in at.warning)
        for k in keys:
            assert at.query_params.get(k) == value or k in warned, f"{where}: {k}={value} neither used nor reported"
    if name == "100k" and keys:
        warned = " ".join(w.value for w in at.warning) + " ".join(i.value for i in at.info)
        assert warned, f"{where}: 100k characters produced no visible message"
