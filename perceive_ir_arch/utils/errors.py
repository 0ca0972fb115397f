"""A user's mistake ends in one line, not a traceback.

Every command of the plugin (``python -m perceive_ir_arch.train|test|render_medium``,
``perceive-ir ...``) runs under ``user_errors``: an error the plugin raised on purpose (its
messages name the option, flag or file, what was found and what was expected) ends the
command as ``SystemExit('<command>: <message>')``: one line on stderr, exit status 1.  Anything else is a bug
and keeps its traceback.  ``PERCEIVE_IR_DEBUG=1`` shows the traceback of every error.
"""
from __future__ import annotations

import contextlib
import os
import re
from typing import Iterator

__all__ = ['DEBUG_ENV', 'UserError', 'user_errors', 'is_user_error', 'one_line']

DEBUG_ENV = 'PERCEIVE_IR_DEBUG'
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# the kinds of error the plugin raises for a user's mistake, with a message written for them
_KINDS = (ValueError, KeyError, TypeError, OSError, FloatingPointError, RuntimeError)
# a DataLoader worker's error comes back re-raised by torch with the worker's traceback as text
_WORKER = re.compile(r'Original Traceback \(most recent call last\):\n(.*)', re.S)


class UserError(Exception):
    """The base of the plugin's own error kinds whose message is written for the user (a weight
    file that cannot serve, a save that failed, an option file, an output folder)."""


def _raised_here(exc: BaseException) -> bool:
    """Whether the innermost frame that raised ``exc`` is the plugin's own code."""
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last = tb
        tb = tb.tb_next
    return last is not None and os.path.abspath(last.tb_frame.f_code.co_filename).startswith(_PACKAGE)


def _worker_error(exc: BaseException) -> tuple[bool, str] | None:
    """(raised by the plugin, message) of an error re-raised from a DataLoader worker."""
    m = _WORKER.search(str(exc))
    if m is None:
        return None
    text = m.group(1).rstrip().splitlines()
    files = [line for line in text if line.lstrip().startswith('File "')]
    here = bool(files) and os.path.abspath(files[-1].split('"')[1]).startswith(_PACKAGE)
    message = text[-1].split(': ', 1)[-1] if text else str(exc)
    return here, message


def one_line(exc: BaseException) -> str:
    """The message of ``exc`` as the user reads it (a KeyError's without its quotes)."""
    worker = _worker_error(exc)
    if worker is not None:
        return worker[1]
    if isinstance(exc, KeyError) and len(exc.args) == 1 and isinstance(exc.args[0], str):
        return exc.args[0]
    return str(exc) or type(exc).__name__


def is_user_error(exc: BaseException) -> bool:
    """Whether ``exc`` is one of the plugin's messages to a user (not a bug)."""
    if isinstance(exc, UserError):
        return True
    if not isinstance(exc, _KINDS):
        return False
    worker = _worker_error(exc)
    return worker[0] if worker is not None else _raised_here(exc)


def debugging() -> bool:
    return os.environ.get(DEBUG_ENV, '') not in ('', '0')


@contextlib.contextmanager
def user_errors(command: str) -> Iterator[None]:
    """Run a command: a user's mistake becomes one line on stderr and exit status 1."""
    try:
        yield
    except KeyboardInterrupt:
        if debugging():
            raise
        raise SystemExit(f'{command}: interrupted') from None
    except Exception as exc:  # noqa: BLE001  (sorted into the user's mistakes and bugs below)
        if debugging() or not is_user_error(exc):
            raise
        raise SystemExit(f'{command}: {one_line(exc)}') from None
