"""Errors the engine raises for bad user input; pages show their message, never a traceback."""


class InputError(ValueError):
    """Input a user can fix: the message says what is wrong and what the limit is."""


class OverBudget(InputError):
    """A hosted run stopped at a checkpoint once it passed its time budget (``limits.run_budget``)."""


class ModelUnavailable(RuntimeError):
    """A model that cannot be loaded here (offline, missing files, not on the allowlist)."""


class UnsupportedArchitecture(ModelUnavailable):
    """The model runs (tokens, hidden states, next token) but no adapter knows its layers, so the
    views that go inside a layer say so plainly instead of guessing."""
