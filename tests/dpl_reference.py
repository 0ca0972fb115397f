"""L_dpl as the method states it, written here independently of the code under test:
torchvision's VGG16 (seed 0 when random) read after features 3, 7, 11 and 15 with its
in-place ReLUs as the release leaves them, layer weights 1/12, 1/6, 1/3, 1, and PSNR."""
from __future__ import annotations

import torch

LAYER_WEIGHTS = (1 / 12, 1 / 6, 1 / 3, 1.0)


def psnr_db(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per image of a batch, images in [0, 1] (x clamped)."""
    mse = ((x.clamp(0, 1).double() - y.double()) ** 2).flatten(1).mean(1)
    return (10 * torch.log10(1.0 / mse)).float()


def release_style_taps(x):
    """torchvision VGG16 as the release reads it: outputs of features[3, 7, 11, 15] with
    torchvision's in-place ReLUs left as they are (same seed -> same random weights)."""
    import torchvision

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        vgg = torchvision.models.vgg16(weights=None).eval()
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    h, taps = (x - mean) / std, []
    with torch.no_grad():
        for i, layer in enumerate(vgg.features[:16]):
            h = layer(h)
            if i in (3, 7, 11, 15):
                taps.append(h)  # the tensor at 7 is overwritten by the in-place ReLU at 8
    return taps
