"""The two ways generative answers fail: the service (at run time) and the set-up."""
from __future__ import annotations

from corpus.errors import ModelError, UsageError


class GenerativeError(ModelError, RuntimeError):
    """The model service failed or wrote nothing usable; `reason` is shown to the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class GenerativeConfigError(UsageError):
    """The model cannot be set up as configured (unknown provider, package, key)."""
