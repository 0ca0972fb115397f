"""One lookup rule for every pretrained part, in the options and on the command line.

1. the file an option or flag names (it must exist: an explicit path is never second-guessed);
2. ``$PERCEIVE_IR_WEIGHTS`` (default ``~/.cache/perceive_ir``), under the part's names;
3. the Hugging Face hub cache (``$HF_HUB_CACHE``, else ``$HF_HOME/hub``, else
   ``~/.cache/huggingface/hub``), where timm and open_clip download;
4. torch hub's checkpoints folder (``$TORCH_HOME/hub/checkpoints``, else
   ``~/.cache/torch/hub/checkpoints``), where torchvision and ``torch.hub`` download;
5. ``~/.cache/clip``, where OpenAI's ``clip`` and open_clip put OpenAI's archives.

An option set to ``true`` asks for steps 2-5; ``~`` (or ``false``) builds random weights.
"""
from __future__ import annotations

import glob
import os
import re

from .parts import PretrainedPart, file_names, pretrained_part

__all__ = ['WEIGHTS_ENV', 'weights_dir', 'hf_hub_cache', 'torch_hub_checkpoints', 'clip_cache',
           'search_places', 'find_published', 'locate']

WEIGHTS_ENV = 'PERCEIVE_IR_WEIGHTS'


def weights_dir() -> str:
    """The plugin's weights folder: ``$PERCEIVE_IR_WEIGHTS`` or ``~/.cache/perceive_ir``."""
    return os.path.expanduser(os.environ.get(WEIGHTS_ENV) or os.path.join('~', '.cache', 'perceive_ir'))


def _xdg_cache() -> str:
    return os.path.expanduser(os.environ.get('XDG_CACHE_HOME') or os.path.join('~', '.cache'))


def hf_hub_cache() -> str:
    """The Hugging Face hub cache as huggingface_hub computes it, read at call time."""
    for var in ('HF_HUB_CACHE', 'HUGGINGFACE_HUB_CACHE'):
        if os.environ.get(var):
            return os.path.expanduser(os.environ[var])
    home = os.environ.get('HF_HOME') or os.path.join(_xdg_cache(), 'huggingface')
    return os.path.join(os.path.expanduser(home), 'hub')


def torch_hub_checkpoints() -> str:
    import torch

    return os.path.join(torch.hub.get_dir(), 'checkpoints')


def clip_cache() -> str:
    return os.path.expanduser(os.path.join('~', '.cache', 'clip'))


def _hf_snapshot_file(repo: str, filename: str) -> str | None:
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo, filename, cache_dir=hf_hub_cache())
    return found if isinstance(found, str) and os.path.isfile(found) else None


def search_places(part: PretrainedPart) -> list[str]:
    """Where the part is looked for, in order, as the user is told."""
    places = [os.path.join(weights_dir(), name) for name in part.names]
    for repo, files in part.hub_repos():
        places += [os.path.join(hf_hub_cache(), 'models--' + repo.replace('/', '--'), 'snapshots', '*', f)
                   for f in files]
    places += [os.path.join(torch_hub_checkpoints(), f) for f in part.torch_hub]
    places += [os.path.join(clip_cache(), f) for f in part.clip_cache]
    return places


def _iteration(path: str) -> tuple[int, str]:
    digits = re.findall(r'\d+', os.path.basename(path))
    return (int(digits[-1]) if digits else -1, path)


def _in_weights_dir(name: str) -> str | None:
    """The file ``name`` names under the weights folder; a pattern (``medium_*.pth``) gives
    its newest iteration, as the authors' share keeps several."""
    path = os.path.join(weights_dir(), name)
    if glob.has_magic(name):
        found = [p for p in glob.glob(path) if os.path.isfile(p)]
        return max(found, key=_iteration) if found else None
    return path if os.path.isfile(path) else None


def find_published(part: PretrainedPart) -> str | None:
    """The first local copy of a part (steps 2-5 of the rule), None when there is none."""
    for name in part.names:
        path = _in_weights_dir(name)
        if path is not None:
            return path
    for repo, files in part.hub_repos():
        for filename in files:
            found = _hf_snapshot_file(repo, filename)
            if found:
                return found
    for folder, files in ((torch_hub_checkpoints(), part.torch_hub), (clip_cache(), part.clip_cache)):
        for filename in files:
            path = os.path.join(folder, filename)
            if os.path.isfile(path):
                return path
    return None


def _folder_names(part: PretrainedPart) -> list[str]:
    names = ([f for _, files in part.hub_repos() for f in files] + ['model.safetensors', 'pytorch_model.bin']
             + list(part.names))
    return list(dict.fromkeys(names))


def _in_folder(folder: str, part: PretrainedPart) -> str | None:
    for name in _folder_names(part):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
    return None


def locate(name: str, value: str | bool | None, option: str) -> str | None:
    """The file for pretrained part ``name`` as ``option`` asks: a path, ``True`` (look it up),
    or ``None`` / ``False`` (random weights: returns None).

    Raises FileNotFoundError naming the option, where it looked and where the part is published.
    """
    if value is None or value is False:
        return None
    part = pretrained_part(name)
    if value is True:
        # a part without published weights (a test architecture) is still looked for by name
        part = part or PretrainedPart(name, f'the {name} weights', (), file_names(name))
        found = find_published(part)
        if found is None:
            looked = '\n  '.join(search_places(part))
            raise FileNotFoundError(
                f'{option}: no local copy of {part.title} was found. This plugin never downloads; '
                + (f'fetch it from {" or ".join(part.urls)} and ' if part.urls else '')
                + f'put it in {weights_dir()} (${WEIGHTS_ENV}) or name the file in {option}. '
                f'Looked for:\n  {looked}')
        return found
    full = os.path.abspath(os.path.expanduser(os.path.expandvars(str(value))))
    if os.path.isdir(full):  # a model folder, as transformers' from_pretrained takes
        part = part or PretrainedPart(name, f'the {name} weights', (), file_names(name))
        inside = _in_folder(full, part)
        if inside is None:
            raise FileNotFoundError(
                f'{option}: folder {full!r} holds none of the files of {part.title} '
                f'({", ".join(_folder_names(part))}); name the weight file itself')
        return inside
    if not os.path.isfile(full):
        where = f'fetch {part.title} from {" or ".join(part.urls)}' if part else 'check the path'
        raise FileNotFoundError(
            f'{option}: weight file {full!r} does not exist. This plugin never downloads; {where}, '
            f'point {option} at the file (or true to look in the usual caches), '
            f'or set {option}: ~ for random weights (tests and demos only).')
    return full
