"""The presenter tour: an ordered list of deep links through the pipeline, each with one
paragraph and a preset input chosen to make its point. Pure data; pages.ui.tour renders it."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode


@dataclass(frozen=True)
class Step:
    url_path: str                       # page (see pages/ui/nav.py)
    title: str
    explanation: str                    # one paragraph, said aloud by the presenter
    params: tuple[tuple[str, str], ...] = ()   # the page's own URL state: the preset input

    def query(self, index: int, present: bool) -> dict[str, str]:
        q = dict(self.params)
        q["tour"] = str(index)
        if present:
            q["present"] = "1"
        return q

    def link(self, index: int, present: bool = True) -> str:
        path = "" if self.url_path == "home" else self.url_path
        return f"/{path}?{urlencode(self.query(index, present))}"


STEPS: tuple[Step, ...] = (
    Step("home", "The whole pipeline in one sentence",
         "A transformer turns text into token ids, ids into vectors, mixes those vectors with "
         "attention in 30 blocks, and reads a probability for every possible next token off the "
         "last position. Everything on this page is one real forward pass of SmolLM2-135M.",
         (("text", "The capital of France is"), ("layer", "3"), ("head", "0"))),
)


def steps_for(available_paths: set[str]) -> list[Step]:
    """The steps whose page ships in this build, in tour order."""
    return [s for s in STEPS if s.url_path in available_paths]
