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
