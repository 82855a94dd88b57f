"""The one exception type for mistakes a user can fix (bad task, bad manifest, missing asset).

The CLIs turn it into a one-line message on stderr and exit code 2; every other exception is a bug
and keeps its traceback. It lives in ``tasks``, the lowest layer (tasks <- agents <- benchmark <-
analysis), so that every layer can raise it without importing a layer above its own.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable

EXIT_USAGE = 2


class UserError(Exception):
    """An input error: the message names the bad value and what would have been valid."""


def invalid(what: str, value: object, valid: Iterable[object]) -> UserError:
    """``unknown task 'foo'; valid: ant, cartpole, ...``"""
    choices = ", ".join(str(v) for v in valid)
    return UserError(f"invalid {what} {value!r}; valid: {choices}")


def cli_main(main: Callable[[list[str] | None], int]) -> Callable[[list[str] | None], int]:
    """Wrap a CLI ``main`` so a :class:`UserError` exits with code 2 and a clean message."""

    def wrapped(argv: list[str] | None = None) -> int:
        try:
            return main(argv)
        except UserError as err:
            print(f"error: {err}", file=sys.stderr)
            return EXIT_USAGE

    wrapped.__doc__ = main.__doc__
    return wrapped
