"""Isnad's exceptions: one tree, so a caller catches what a user can meet by its kind.

    IsnadError                  root: every error Isnad raises on purpose
    ├── UsageError              bad input: a wrong option, value, question or file name
    │   ├── qa.engine.QuestionError          (empty, too long, bad k)
    │   ├── qa.settings.SettingsError        (a bad setting in the environment)
    │   ├── qa.generative.GenerativeConfigError (--llm that cannot be set up)
    │   ├── index.added.AddError             (add/remove refused; nothing changed)
    │   └── ui.terminal.BidiModeError        (--bidi / ISNAD_BIDI)
    ├── DocumentError           a document cannot be read (names the file and why)
    ├── IndexProblem            the index is missing, damaged or built otherwise
    │   ├── IndexMissingError
    │   ├── IndexMismatchError  (another embedder or format version)
    │   └── IndexCorruptError
    ├── ModelError              an embedding or language model fails
    │   ├── index.embedders.EmbedderError    (cannot be created: unknown, not offline)
    │   └── qa.generative.GenerativeError    (the service failed at run time)
    └── DiskFullError           the data directory's disk cannot hold a build

Each message is one line that says what to do. The command line maps the kinds to
exit codes in one place (ui.cli.exit_code_for): 2 for UsageError, DocumentError,
IndexProblem and EmbedderError (the user fixes them), 1 for everything else.

This module is the lowest layer (corpus) so that every layer may raise these; the
subclasses living higher up are defined where they are raised.
"""
from __future__ import annotations


class IsnadError(Exception):
    """Root of Isnad's own errors; the message is one line for the user."""


class UsageError(IsnadError, ValueError):
    """Bad input from the user (an option, a value, a question, a file name)."""


class DocumentError(IsnadError):
    """A document that cannot be loaded; the message names the file and the reason."""


class IndexProblem(IsnadError):
    """An index problem the user can fix; the message says what to run."""


class IndexMissingError(IndexProblem):
    pass


class IndexMismatchError(IndexProblem):
    pass


class IndexCorruptError(IndexProblem):
    pass


class ModelError(IsnadError):
    """An embedding or language model cannot be used."""


class DiskFullError(IsnadError):
    """The data directory's disk cannot hold the build; the message says how much it needs."""


__all__ = [
    "DiskFullError", "DocumentError", "IndexCorruptError", "IndexMismatchError", "IndexMissingError",
    "IndexProblem", "IsnadError", "ModelError", "UsageError",
]
