"""Where every pretrained part is published, and how a local copy is found.

Nothing here downloads: the plugin runs offline, so a pretrained part is always a local
file that the options name.  This table only tells the user where to fetch it.
"""
from __future__ import annotations

import os

__all__ = ['PUBLISHED', 'WEIGHTS_ENV', 'weights_dir', 'find_local', 'resolve_pretrained']

# name -> where the weights are published (shown in the error when the file is missing)
PUBLISHED: dict[str, str] = {
    'dinov2_vitb14': ('https://huggingface.co/timm/vit_base_patch14_dinov2.lvd142m '
                      '(model.safetensors), or Meta\'s original '
                      'https://dl.fbaipublicfiles.com/dinov2/dinov2_vitb14/dinov2_vitb14_pretrain.pth'),
    'dinov2_vits14': ('https://huggingface.co/timm/vit_small_patch14_dinov2.lvd142m '
                      '(model.safetensors), or Meta\'s original '
                      'https://dl.fbaipublicfiles.com/dinov2/dinov2_vits14/dinov2_vits14_pretrain.pth'),
    'vgg16': 'torchvision\'s https://download.pytorch.org/models/vgg16-397923af.pth',
    'clip_ViT-B-32': ('OpenAI\'s ViT-B-32.pt (https://openaipublic.azureedge.net/clip/models/'
                      '40d3715913c3b6bda9ab2e2e1f5bb64e7e8c7e5e/ViT-B-32.pt) or '
                      'https://huggingface.co/timm/vit_base_patch32_clip_224.openai '
                      '(open_clip_pytorch_model.bin)'),
}


# The one place, besides the options, where the command-line tools look for pretrained
# parts: $PERCEIVE_IR_WEIGHTS, else ~/.cache/perceive_ir, holding <name>.<ext> files
# (dinov2_vitb14.safetensors, clip_ViT-B-32.pt, vgg16.pth, ...).
WEIGHTS_ENV = 'PERCEIVE_IR_WEIGHTS'
_EXTENSIONS = ('.safetensors', '.pth', '.pt', '.bin')


def weights_dir() -> str:
    """The local weights folder: ``$PERCEIVE_IR_WEIGHTS`` or ``~/.cache/perceive_ir``."""
    return os.path.expanduser(os.environ.get(WEIGHTS_ENV) or os.path.join('~', '.cache', 'perceive_ir'))


def find_local(name: str) -> str | None:
    """``<weights_dir>/<name>.<ext>`` for the first extension that exists, else None."""
    for ext in _EXTENSIONS:
        path = os.path.join(weights_dir(), name + ext)
        if os.path.isfile(path):
            return path
    return None


def resolve_pretrained(path: str | None, *, option: str, name: str) -> str | None:
    """Return the absolute path of a local weight file, or None for random weights.

    Raises FileNotFoundError naming the option, the file and where it is published.
    """
    if path is None:
        return None
    full = os.path.abspath(os.path.expanduser(os.path.expandvars(str(path))))
    if not os.path.isfile(full):
        where = PUBLISHED.get(name, 'the publisher of this architecture')
        raise FileNotFoundError(
            f'{option}: weight file {full!r} does not exist. This plugin never downloads; '
            f'fetch the {name} weights from {where}, point {option} at the file, '
            f'or set {option}: ~ for random weights (tests and demos only).')
    return full
