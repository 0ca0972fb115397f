"""Restore photos in Python: ``create_restorer(weights)`` -> ``Restorer``.

The weights are a restorer file (``save_restorer``, ``perceive-ir pack``; the format is
``restorer_file.py``) or a BasicSR ``net_g_*.pth`` with the option file that built it.

Example (a tiny random network, so that it runs anywhere):

>>> import os, tempfile, numpy as np
>>> from perceive_ir_arch import PerceiveIR, create_restorer, save_restorer
>>> net = PerceiveIR(dim=8, num_blocks=[1, 1, 1, 1], num_refinement_blocks=1,
...                  heads=[1, 1, 1, 1], degradation_dim=16, semantic_encoder='dinov2_tiny')
>>> path = os.path.join(tempfile.mkdtemp(), 'tiny.pth')
>>> save_restorer(path, net)
>>> restorer = create_restorer(path, device='cpu')
>>> photo = np.random.default_rng(0).integers(0, 256, (37, 50, 3), dtype=np.uint8)
>>> out = restorer.restore(photo)
>>> out.shape, out.dtype
((37, 50, 3), dtype('uint8'))
>>> restorer.restore(photo[..., 0]).shape  # grey stays grey
(37, 50)
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, TypeVar

import numpy as np
import torch
from torch import nn

from ..utils.device import HALF_DTYPES, half_refusal, select_device
from ..utils.image_io import pixel_scale, rgb_float
from ..zoo import MODELS
from . import tiling
from .restorer_file import network_from_file

__all__ = ['PROTOCOLS', 'Restorer', 'create_restorer', 'parse_memory', 'restore_with_protocol']

# how a large image is restored in tiles:
#   whole_image: every tile guided by the whole image, raised-cosine blending (this project)
#   release: the authors' evaluator: 256-px tiles, 32 overlap, each reflect-padded to a
#            multiple of 8 and guided by itself, plain averaging, bf16 on a GPU
#   partition: MambaIR's test: (side // 200 + 1) parts per side, each restored alone with
#            a tenth of overlap, its own part kept
PROTOCOLS = ('whole_image', 'release', 'partition')
_RELEASE_TILE, _RELEASE_OVERLAP = 256, 32
_PARTITION = 200
Image = TypeVar('Image')


def parse_memory(text: str | int | None) -> int | None:
    """'2G', '512M', '1.5GiB', 3e9 -> bytes."""
    if text is None or isinstance(text, int):
        return text
    units = {'': 1, 'K': 2 ** 10, 'M': 2 ** 20, 'G': 2 ** 30, 'T': 2 ** 40}
    s = str(text).strip().upper().removesuffix('B').removesuffix('I')
    unit = s[-1] if s and s[-1] in units else ''
    try:
        return int(float(s[:len(s) - len(unit)]) * units[unit])
    except ValueError:
        raise ValueError(f'memory size {text!r}: expected a number with an optional K, M, G '
                         'or T suffix, e.g. 2G') from None


# -- restoring -------------------------------------------------------------------------
class Restorer:
    """A network ready to restore images of any size; see ``create_restorer``."""

    def __init__(self, net: nn.Module, device: torch.device, half: str | None = None,
                 tile: int | None = None, tile_overlap: int = 32,
                 max_memory: int | str | None = None, protocol: str = 'whole_image') -> None:
        if protocol not in PROTOCOLS:
            raise ValueError(f'protocol: {protocol!r}; use one of {", ".join(PROTOCOLS)}')
        if protocol == 'release':
            tile = _RELEASE_TILE if tile is None else tile
            half = 'bf16' if half is None and device.type == 'cuda' else half
        self.protocol = protocol
        if half is not None and half not in HALF_DTYPES:
            raise ValueError(f'half: {half!r}; use bf16, fp16 or None')
        refusal = half_refusal(device, half)
        if refusal:
            raise ValueError(f'half: {half} on {device}: {refusal}')
        if tile is not None and tile < 16:
            raise ValueError(f'tile: {tile}; use at least 16 pixels (or None for automatic)')
        if tile is not None and not 0 <= tile_overlap < tile:
            raise ValueError(f'tile_overlap: {tile_overlap}; use 0 <= overlap < tile ({tile})')
        self.device = device
        self.net = net.to(device).eval()
        self.dtype = HALF_DTYPES.get(half)
        self.tile, self.overlap = tile, tile_overlap
        self.max_memory = parse_memory(max_memory)

    # the memory budget: what the option says, else 2 GiB on CPU, 80% of what is free on GPU
    def _budget(self) -> int:
        if self.max_memory is not None:
            return self.max_memory
        if self.device.type == 'cuda':
            free, _ = torch.cuda.mem_get_info(self.device)
            return int(free * 0.8)
        return 2 * 2 ** 30

    def plan(self, height: int, width: int) -> int | None:
        """The tile size used for an image of this size, None for the whole image at once."""
        if self.protocol == 'release':
            return self.tile  # every image in tiles, a small one as one padded tile
        if self.protocol == 'partition':
            return _PARTITION
        if self.tile is not None:
            return self.tile if max(height, width) > self.tile else None
        size = 2 if self.dtype is not None else 4
        per_pixel = self._bytes_per_pixel(size)
        if per_pixel * height * width <= self._budget():
            return None
        return tiling.tile_for_budget(per_pixel, self._budget())

    def _bytes_per_pixel(self, element_size: int) -> int:
        """The network's own estimate; for networks without one, a width-64 PerceiveIR's."""
        estimate = getattr(self.net, 'inference_bytes', None)
        return estimate(1, element_size) if estimate else 64 * 128 * element_size // 4

    def _run(self, x: torch.Tensor, **guidance: torch.Tensor) -> torch.Tensor:
        if self.dtype is None:
            return self.net(x, **guidance)
        with torch.autocast(self.device.type, dtype=self.dtype):
            return self.net(x, **guidance).float()

    @torch.no_grad()
    def restore_tensor(self, x: torch.Tensor,
                       progress: Callable[[int], None] | None = None) -> torch.Tensor:
        """B x 3 x H x W floats in [0, 1] (any device) -> restored, same shape and device."""
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f'expected a B x 3 x H x W tensor, got shape {tuple(x.shape)}')
        where = x.device
        tile = self.plan(*x.shape[-2:])
        finite = torch.isfinite(x)
        if not bool(finite.all()):
            raise ValueError(f'the input has {int((~finite).sum())} NaN or infinite values; replace them first')
        outs = []
        for one in x.float().split(1):
            if self.protocol == 'release':
                out = tiling.restore_tiles_alone(self._run, one.cpu(), tile, self.overlap, self.device,
                                                  progress=progress)
            elif self.protocol == 'partition':
                out = tiling.restore_partitioned(self._run, one.cpu(), self.device, _PARTITION, progress)
            elif tile is None:
                out = self._run(one.to(self.device))
            else:
                one = one.cpu()  # the full image never goes to the device at once
                # networks that guide themselves see the whole image in every tile
                whole = getattr(self.net, 'whole_image_guidance', None)
                guidance = whole(one, tile, self.device) if whole else {}
                out = tiling.restore_tiled(self._run, one, tile, self.overlap, self.device,
                                            guidance, progress)
            outs.append(_checked_output(out.float(), one).clamp_(0, 1).to(where))
        return outs[0] if len(outs) == 1 else torch.cat(outs)

    def set_task(self, task: str) -> None:
        """For networks that restore with a task input (InstructIR by name): the task of the
        next images; others need none and ignore it."""
        if hasattr(self.net, 'set_task'):
            self.net.set_task(task)

    def needs_task(self) -> bool:
        return bool(getattr(self.net, 'needs_task', lambda: False)())

    def count_tiles(self, height: int, width: int) -> int:
        if self.protocol == 'partition':
            return len(tiling.partition_slices(height, width, _PARTITION)[2])
        tile = self.plan(height, width)
        return 1 if tile is None else sum(1 for _ in tiling.tiles(height, width, tile, self.overlap))

    def restore(self, image: Image, progress: Callable[[int], None] | None = None) -> Image:
        """Restore a numpy array (H x W grey, H x W x 3 RGB, H x W x 4 RGBA; uint8, uint16
        or float in [0, 1]), a PIL image, or a tensor (3 x H x W or B x 3 x H x W in
        [0, 1]); the result has the input's type, shape, dtype and, for tensors, device.
        Grey stays grey and alpha is kept as it was."""
        if isinstance(image, torch.Tensor):
            if image.ndim == 3:
                return self.restore_tensor(image[None], progress)[0]
            return self.restore_tensor(image, progress)
        if isinstance(image, np.ndarray):
            return self._restore_array(image, progress)
        try:
            from PIL import Image as PILImage
        except ImportError:  # pragma: no cover
            PILImage = None
        if PILImage is not None and isinstance(image, PILImage.Image):
            mode = image.mode
            if mode not in ('L', 'RGB', 'RGBA', 'I;16'):
                image, mode = image.convert('RGB'), 'RGB'
            out = self._restore_array(np.asarray(image), progress)
            return PILImage.fromarray(out, mode=mode) if mode == 'I;16' else PILImage.fromarray(out)
        raise TypeError(f'restore() takes a numpy array, a PIL image or a tensor, not {type(image).__name__}')

    def _restore_array(self, img: np.ndarray, progress: Callable[[int], None] | None) -> np.ndarray:
        pixels = rgb_float(img)
        scale = pixel_scale(img.dtype)
        grey = img.ndim == 2 or img.shape[2] == 1
        plane = img.reshape(img.shape[:2] + (-1,))
        out = self.restore_tensor(torch.from_numpy(pixels).permute(2, 0, 1)[None], progress)
        del pixels
        out = out[0].permute(1, 2, 0).cpu().numpy()
        if grey:  # ITU-R BT.601 luma, as cv2 and PIL convert RGB to grey
            out = out @ np.array([0.299, 0.587, 0.114], np.float32)
            out = out.reshape(img.shape)
        if scale != 1.0:
            out *= scale  # in place, then one conversion
            out = np.round(out, out=out).astype(img.dtype)
        else:
            out = out.astype(img.dtype, copy=False)
        if not grey and plane.shape[2] == 4:
            out = np.concatenate([out, plane[..., 3:]], axis=2)
        return out


@torch.no_grad()
def restore_with_protocol(net: nn.Module, x: torch.Tensor, device: torch.device, protocol: str) -> torch.Tensor:
    """A batch restored as ``protocol`` says (a test loop's, ``val.protocol``), the network's
    mode kept."""
    if protocol not in PROTOCOLS:
        raise ValueError(f'val.protocol: {protocol!r}; use one of {", ".join(PROTOCOLS)}')
    was_training = net.training
    out = Restorer(net, device, protocol=protocol).restore_tensor(x)
    net.train(was_training)
    return out


def _checked_output(out: torch.Tensor, given: torch.Tensor) -> torch.Tensor:
    """The restored image, or ValueError when it cannot be a restoration of ``given``."""
    finite = torch.isfinite(out)
    if not bool(finite.all()):
        raise ValueError(f'the network gave {int((~finite).sum())} NaN or infinite values for this image; '
                         'its weights or its precision (--half) are broken for it')
    spread = float(out.amax() - out.amin())
    if spread < 1e-6 and float(given.amax() - given.amin()) > 1e-3:
        raise ValueError(f'the network gave one flat value ({float(out.flatten()[0]):.4g}) for the whole '
                         'image: its weights are probably broken (all zeros, or trained to nothing)')
    return out


def create_restorer(weights: str, *, opt: str | Mapping[str, Any] | None = None,
                    device: str | torch.device = 'auto', half: str | None = None,
                    tile: int | None = None, tile_overlap: int = 32,
                    max_memory: int | str | None = None, semantic_weights: str | None = None,
                    param_key: str | None = None, protocol: str | None = None,
                    task: str | None = None) -> Restorer:
    """A ``Restorer`` for a restorer file (``save_restorer`` / ``perceive-ir pack``) or a
    BasicSR ``net_g_*.pth`` with the option file ``opt`` that built it.

    Args:
        device: 'auto' (CUDA when available), 'cpu', 'cuda' or 'cuda:N'.
        half: 'bf16' or 'fp16' autocast on a GPU; 'bf16' on a CPU with native bf16
            (AVX512_BF16, AMX); refused (ValueError, with the reason) elsewhere.
        tile: tile size in pixels; None = tile only when the image would not fit
            ``max_memory`` (default 2 GiB on CPU, 80% of the free GPU memory).
        tile_overlap: pixels shared by neighbouring tiles, blended smoothly.
        semantic_weights: the DINOv2 file for a restorer trained with the real encoder;
            default: found by the lookup rule of ``perceive_ir_arch.pretrained.locate``
            ($PERCEIVE_IR_WEIGHTS, the Hugging Face hub cache, torch hub's checkpoints).
        protocol: 'whole_image' (tiles guided by the whole image, blended), 'release'
            (the authors' evaluator: 256-px tiles with 32 overlap unless ``tile`` /
            ``tile_overlap`` say otherwise, each guided by itself, averaged; bf16 on a GPU)
            or 'partition' (MambaIR's test); default: a model's publisher's, else whole_image.
        task: the task restored, for models that take it as an input (instructir_7d).

    ``weights`` may also be a model of the table (``list_models()``: ``adair_3task``,
    ``promptir_allinone``, ...), a file of the authors' release (``AIO-3D.pth``) or the name
    of a published file (``PRETRAINED_PARTS``), found by the lookup rule.
    """
    entry = MODELS.get(weights) if isinstance(weights, str) else None
    if protocol is None:
        protocol = entry.protocol.restore if entry is not None else 'whole_image'
    net = network_from_file(weights, opt, semantic_weights, param_key)
    restorer = Restorer(net, select_device(device), half, tile, tile_overlap, max_memory, protocol)
    if task is not None:
        restorer.set_task(task)
    return restorer
