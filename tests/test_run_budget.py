"""Hosted mode stops a run that passes its time budget (issue #17): at the next checkpoint of a
core loop, with a message, counted against the visitor, the slot freed, other threads untouched."""
import threading
import time

import pytest
from streamlit.testing.v1 import AppTest

from core.runtime import limits
from core.runtime.errors import InputError, OverBudget
from core.text import word2vec


@pytest.fixture
def hosted(monkeypatch):
    monkeypatch.setenv("ATLAS_HOSTED", "1")
    monkeypatch.delenv("ATLAS_RUN_BUDGET_S", raising=False)


def test_budget_is_hosted_only_and_can_be_set(monkeypatch, hosted):
    assert limits.run_budget_s() == limits.HOSTED.max_run_s == 90.0
    monkeypatch.setenv("ATLAS_RUN_BUDGET_S", "2.5")
    assert limits.run_budget_s() == 2.5
    monkeypatch.setenv("ATLAS_RUN_BUDGET_S", "0")
    assert limits.run_budget_s() is None
    monkeypatch.setenv("ATLAS_RUN_BUDGET_S", "soon")
    with pytest.raises(InputError, match="ATLAS_RUN_BUDGET_S"):
        limits.run_budget_s()
    monkeypatch.delenv("ATLAS_RUN_BUDGET_S")
    monkeypatch.delenv("ATLAS_HOSTED")
    assert limits.run_budget_s() is None                 # locally nothing is stopped


def test_checkpoint_raises_only_past_the_deadline_and_only_in_its_thread():
    limits.checkpoint()                                  # no budget: nothing
    seen = []
    with limits.run_budget("sweep", seconds=0.05):
        limits.checkpoint()                              # within the budget
        time.sleep(0.08)
        other = threading.Thread(target=lambda: seen.append(limits.checkpoint()))
        other.start()
        other.join()
        with pytest.raises(OverBudget, match=r"The sweep was stopped after 0\.05 s"):
            limits.checkpoint()
    assert seen == [None]                                # another thread (session) is not affected
    limits.checkpoint()                                  # the budget ends with its block


def test_word2vec_training_stops_at_the_next_epoch():
    sents = word2vec.sentences_from_text(word2vec.bundled_text())[:200]
    epochs = []
    cfg = word2vec.W2VConfig(epochs=5, vector_size=20)
    with limits.run_budget("training run", seconds=1e-6), pytest.raises(OverBudget):
        word2vec.train(sents, cfg, lambda i, n, loss: epochs.append(i))
    assert epochs == []                                  # stopped after the first epoch, before reporting
    assert len(word2vec.train(sents, cfg).epoch_loss) == 5   # without a budget it runs to the end


def _slow_script():
    import time as _time

    import streamlit as st

    from core.runtime import limits as _limits
    from pages.ui.budget import expensive
    from pages.ui.messages import guard
    for attempt in range(2):
        with guard("the slow run"):
            with expensive("sweep"):
                for _ in range(100):
                    _limits.checkpoint()
                    _time.sleep(0.05)
                st.write("finished")
    st.write(f"used {st.session_state['atlas-budget']['sweep']}")


def test_a_hosted_run_over_budget_is_stopped_counted_and_frees_the_slot(monkeypatch, hosted):
    monkeypatch.setenv("ATLAS_RUN_BUDGET_S", "0.3")
    from pages.ui import budget
    at = AppTest.from_function(_slow_script, default_timeout=30).run()
    assert not at.exception
    assert [m.value for m in at.markdown] == ["used 2"]          # each stopped run counts
    assert len(at.warning) == 2 and all("ablation sweep was stopped after 0.3 s" in w.value for w in at.warning)
    slot = budget._slots()["sweep"]
    assert slot.acquire(timeout=0.1)                             # released after the stop
    slot.release()


def test_a_background_job_runs_under_the_budget_in_its_worker_thread(monkeypatch, hosted):
    """The scaling sweep runs in a worker thread (pages.ui.jobs): the budget is set there too."""
    from concurrent.futures import ThreadPoolExecutor

    from core.scaling import tiny_sweep
    from pages.ui import jobs
    monkeypatch.setenv("ATLAS_RUN_BUDGET_S", "0.2")
    released = []
    import dataclasses
    cfg = dataclasses.replace(tiny_sweep.PRESETS["hosted"], steps=100_000)
    with ThreadPoolExecutor(1) as pool:
        fut = pool.submit(jobs._run, lambda: released.append(1), lambda report: tiny_sweep.run_sweep(cfg, report), jobs.Job(),
                           "training run")
        with pytest.raises(OverBudget, match="training run was stopped after 0.2 s"):
            fut.result(timeout=60)
    assert released == [1]
