"""``--force_yml a:b:c=value`` overrides, as BasicSR's runner reads them, list items included.

BasicSR applies ``--force_yml`` to nested blocks only (``train:ema_decay=0.999``); a key
path that goes through a list (``train:dpl_opt:proxies:0:network:dim=8``) fails there.
``parse_options`` below takes those entries out of the command line before BasicSR sees
it and applies them to the parsed options after, so every plugin runner and
``render_medium`` accept one and the same override set.
"""
from __future__ import annotations

import sys
from typing import Callable

from ..utils.yaml_file import read_yaml
from .option_values import check_option_values

__all__ = ['apply_override', 'through_list', 'parse_options_with_lists', 'check_option_file']


def _keys(entry: str) -> tuple[list[str], str]:
    if '=' not in entry:
        raise SystemExit(f'--force_yml {entry!r}: expected keys=value, e.g. network_g:dim=8')
    keys, value = (part.strip() for part in entry.split('=', 1))
    return keys.split(':'), value


def apply_override(opt: dict, entry: str) -> None:
    """Apply one ``a:b:0:c=value`` override (a number indexes a list); the value is read
    as BasicSR's runner reads it (``~`` None, true/false, numbers, lists).  Inside a list
    item a missing block is made (``proxies:1:network:dim=8`` for a proxy given by model)."""
    from basicsr.utils.options import _postprocess_yml_value

    keys, value = _keys(entry)
    node = opt
    inside_list = False
    for key in keys[:-1]:
        if isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node, inside_list = node[int(key)], True
        elif isinstance(node, dict) and isinstance(node.get(key), (dict, list)):
            node = node[key]
        elif inside_list and isinstance(node, dict) and key not in node:
            # a block a list item leaves to its defaults (a proxy's network, named by model)
            node = node.setdefault(key, {})
        else:
            raise SystemExit(f'--force_yml {entry!r}: {key!r} is not a block of the option file')
    last = keys[-1]
    if isinstance(node, list):
        if not (last.isdigit() and int(last) < len(node)):
            raise SystemExit(f'--force_yml {entry!r}: {last!r} is not an item of the list')
        node[int(last)] = _postprocess_yml_value(value)
    else:
        node[last] = _postprocess_yml_value(value)


def through_list(entry: str) -> bool:
    """Whether an override's key path indexes a list (BasicSR cannot apply it)."""
    return any(key.isdigit() for key in _keys(entry)[0])


def _option_file(argv: list[str]) -> str | None:
    for flag in ('-opt', '--opt'):
        if flag in argv[:-1]:
            return argv[argv.index(flag) + 1]
    return None


def _split_overrides(argv: list[str]) -> tuple[list[str], list[str]]:
    """(the command line without ``--force_yml`` and its entries, those entries)."""
    rest, entries, i = [], [], 0
    while i < len(argv):
        if argv[i] == '--force_yml':
            i += 1
            while i < len(argv) and not argv[i].startswith('--'):
                entries.append(argv[i])
                i += 1
            continue
        rest.append(argv[i])
        i += 1
    return rest, entries


def check_option_file(argv: list[str], is_train: bool) -> None:
    """Read the option file ``-opt`` names, apply the overrides, and check every value
    before BasicSR reads it (OptionError, one line); print the warnings."""
    path = _option_file(argv)
    if path is None:
        return  # BasicSR's own parser says -opt is required
    opt = read_yaml(path, '-opt')
    if isinstance(opt, dict):
        for entry in _split_overrides(argv)[1]:
            apply_override(opt, entry)
    for warning in check_option_values(opt, is_train, path):
        print(f'warning: {warning}', file=sys.stderr, flush=True)


def parse_options_with_lists(original: Callable) -> Callable:
    """BasicSR's ``parse_options``, its values checked first (``check_option_values``),
    also applying overrides that index lists."""
    def parse(root_path: str, is_train: bool = True):
        argv = sys.argv
        check_option_file(argv, is_train)
        rest, entries = _split_overrides(argv)
        later = [e for e in entries if through_list(e)]
        kept = [e for e in entries if not through_list(e)]
        kept = rest + (['--force_yml', *kept] if kept else [])
        sys.argv = kept
        try:
            opt, args = original(root_path, is_train)
        finally:
            sys.argv = argv
        for entry in later:
            apply_override(opt, entry)
        return opt, args
    return parse
