"""Export a restorer to ONNX and check it against onnxruntime.

The exported graph is the whole restorer: image in, restored image out, semantic encoder
and CFE inside, height and width dynamic (16 px and up), values clamped to [0, 1].
ONNX uses the ``torch.onnx`` dynamo exporter at opset 18: the exporter's own default, and
the first opset whose Resize antialiases, which networks that downscale for the semantic
encoder with antialiasing need (``semantic_antialias: true``, restorer files before
version 3); the default network resizes without it and would export at lower opsets too.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..utils.files import replacing

__all__ = ['OPSET', 'export_onnx', 'onnx_max_difference']

OPSET = 18


class _ImageToImage(nn.Module):
    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.net(image).clamp(0, 1)


def _example(size: int) -> torch.Tensor:
    # unequal sides, not multiples of 8: a trace that specialised on the example's size
    # would show in the parity check at other sizes
    if size % 8 == 0:
        size += 1
    return torch.rand(1, 3, size, size + 8)


def _dynamic() -> tuple[dict[int, object], ...]:
    dim = torch.export.Dim
    return ({2: dim('height', min=16, max=16384), 3: dim('width', min=16, max=16384)},)


def export_onnx(net: nn.Module, path: str, opset: int = OPSET, example_size: int = 61) -> None:
    """Write ``net`` (eval mode, CPU) as ONNX with input ``image`` and output ``restored``,
    both N x 3 x height x width in [0, 1].  The file appears complete or not at all."""
    net = net.eval().cpu()
    example = _example(example_size)
    with replacing(path) as tmp:
        program = torch.onnx.export(_ImageToImage(net).eval(), (example,), dynamo=True, opset_version=opset,
                                    input_names=['image'], output_names=['restored'],
                                    dynamic_shapes=_dynamic(), verbose=False)
        program.save(tmp)


def onnx_max_difference(path: str, net: nn.Module, images: list[np.ndarray]) -> list[float]:
    """Largest absolute difference between onnxruntime and PyTorch (fp32, CPU) for each
    image (H x W x 3 floats in [0, 1])."""
    import onnxruntime

    session = onnxruntime.InferenceSession(path, providers=['CPUExecutionProvider'])
    reference = _ImageToImage(net.eval().cpu())
    diffs = []
    for img in images:
        x = np.ascontiguousarray(img.transpose(2, 0, 1)[None], dtype=np.float32)
        (ours,) = session.run(['restored'], {'image': x})
        with torch.no_grad():
            ref = reference(torch.from_numpy(x)).numpy()
        diffs.append(float(np.abs(ours - ref).max()))
    return diffs
