"""The one reader of YAML option files: a missing file or a syntax error named in one line."""
from __future__ import annotations

from typing import Any

import yaml

__all__ = ['read_yaml', 'number_text_hint']


def read_yaml(path: str, option: str) -> Any:
    """What the YAML file at ``path`` holds; OSError / ValueError naming ``option`` (the flag
    or key that gave the path), the file and, for a syntax error, its line and column."""
    try:
        with open(path, encoding='utf-8') as f:
            return yaml.safe_load(f)
    except OSError as exc:
        raise FileNotFoundError(f'{option}: option file {path!r}: {exc.strerror or exc}') from None
    except UnicodeDecodeError:
        raise ValueError(f'{option}: {path!r} is not a text file (a YAML option file was expected)') from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, 'problem_mark', None)
        at = f' at line {mark.line + 1}, column {mark.column + 1}' if mark is not None else ''
        problem = getattr(exc, 'problem', None) or str(exc).splitlines()[0]
        raise ValueError(f'{option}: {path!r} is not valid YAML{at}: {problem}') from None


def number_text_hint(value: Any) -> str | None:
    """How to write a number a YAML file gave as text, None when ``value`` is no such text:
    PyYAML (YAML 1.1) reads 1e-4, with no dot, as a string; a quoted number is one too."""
    if not isinstance(value, str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    if 'e' in value.lower() and '.' not in value:
        return f'YAML reads {value} as text: write {number!r} or !!float {value}'
    return f'write it without quotes: {value.strip()}'
