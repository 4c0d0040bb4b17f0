"""Errors a user sees. Every one carries what went wrong and what to try.

The CLI prints them without a traceback: :class:`UsageError` (bad input) exits 2,
:class:`OperationError` (Fabric, Kubernetes or Vault said no) exits 1.
"""

from __future__ import annotations


class BaasError(Exception):
    """Base class: ``message`` says what happened, ``hint`` what to try (may be empty)."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class UsageError(BaasError):
    """The user's input is wrong (a file, a flag, a name). Exit status 2."""

    exit_code = 2


class OperationError(BaasError):
    """An external system refused or failed (Fabric, Kubernetes, Vault, helm). Exit status 1."""

    exit_code = 1


class SigningRefused(BaasError):
    """A step would sign as organisations the caller may not sign for (``refused``: their
    names; ``purpose``: what the signature is for; ``allowed``: those it may sign for).
    Raised before the step acts; the REST API answers it with 403. Exit status 2."""

    exit_code = 2

    def __init__(self, refused: list[str], *, purpose: str, allowed: frozenset[str]) -> None:
        self.refused = sorted(refused)
        self.purpose = purpose
        self.allowed = allowed
        needed = ", ".join(self.refused)
        super().__init__(
            f"signing as the admin of {needed} is needed ({purpose}); this request may sign "
            f"for {', '.join(sorted(allowed)) or 'no organisation'} only",
            hint=f"ask a consortium-admin to run it, or have {needed} approve it with a token "
            "scoped to each of them",
        )
