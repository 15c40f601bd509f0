"""Hosted mode (ATLAS_HOSTED=1): allowlist only, tighter caps stated in the UI, expensive
actions limited per session and one at a time per process."""

import pytest
from streamlit.testing.v1 import AppTest

from core.runtime import limits
from core.runtime import models
from core.runtime.errors import ModelUnavailable
from pages.ui.nav import by_url
from tests.apptest_util import problems, run_page


@pytest.fixture
def hosted(monkeypatch):
    monkeypatch.setenv("ATLAS_HOSTED", "1")
    yield


def test_hosted_caps_are_tighter_everywhere():
    assert all(getattr(limits.HOSTED, f) < getattr(limits.LOCAL, f) for f in limits.Limits.__dataclass_fields__)


def test_hosted_refuses_hub_ids_and_local_folders(hosted, tmp_path):
    for name in ("gpt2/x", "HuggingFaceTB/SmolLM2-360M", str(tmp_path)):
        with pytest.raises(ModelUnavailable, match="allowlist"):
            models.resolve(name)
    assert models.resolve("smollm2-135m")[0].source == "bundled"


def test_hosted_home_states_caps_and_refuses_long_text(hosted):
    at = AppTest.from_file(str(__import__("tests.conftest").conftest.ROOT / "app.py"), default_timeout=240)
    at.query_params["text"] = "word " * 1000          # 5,000 chars > 4,000 hosted cap
    at.run()
    assert problems(at) == []
    assert any("4,000" in i.value for i in at.sidebar.info)
    assert any("4,000" in w.value and "hosted" in w.value for w in at.warning)


def test_hosted_attention_picker_has_no_free_form_model(hosted):
    at = run_page(by_url("attention"))
    assert problems(at) == []
    for box in at.selectbox:
        assert "other…" not in box.options


def _budget_script():
    import streamlit as st

    from core.runtime.errors import InputError
    from pages.ui.budget import expensive
    for i in range(4):
        try:
            with expensive("training"):
                st.write(f"ran {i}")
        except InputError as exc:
            st.warning(str(exc))


def test_budget_per_session(hosted):
    at = AppTest.from_function(_budget_script).run()
    assert [m.value for m in at.markdown] == ["ran 0", "ran 1", "ran 2"]
    assert "3 training runs per visitor" in at.warning[0].value


def test_budget_one_at_a_time(hosted):
    """While one session holds the training slot, another is refused with a message."""
    from pages.ui import budget
    budget.KINDS["training"] = (3, 0.2, "training runs", "training run")     # short wait keeps the test fast
    try:
        slot = budget._slots()["training"]
        assert slot.acquire(timeout=1)
        try:
            at = AppTest.from_function(_budget_script).run()
            assert "Another visitor's training run is running" in at.warning[0].value and not at.markdown
        finally:
            slot.release()
    finally:
        budget.KINDS["training"] = (3, 20.0, "training runs", "training run")
