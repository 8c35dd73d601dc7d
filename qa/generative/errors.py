"""The two ways generative answers fail: the service (at run time) and the set-up."""
from __future__ import annotations

class GenerativeError(RuntimeError):
    """The model service failed or wrote nothing usable; `reason` is shown to the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class GenerativeConfigError(ValueError):
    """The model cannot be set up as configured (unknown provider, package, key)."""
