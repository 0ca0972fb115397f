"""How a publisher tests its model, as data: the evaluation follows it row by row, or one
common protocol for every row (``COMMON``)."""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ['Protocol', 'COMMON', 'PEERS_TEST', 'RELEASE_EVALUATOR', 'WHOLE_IMAGE', 'MAMBAIR_PARTITION',
           'NOISE_KINDS']

# per_image: this project's draw, one seed per (image, sigma), rounded to 8 bits;
# sequential: the peers' test scripts: one np.random.seed(0) stream over the images in
# order, sigma 15 then 25 then 50, added to the 8-bit image and truncated to 8 bits
NOISE_KINDS = ('per_image', 'sequential')


@dataclass(frozen=True)
class Protocol:
    """What a test script does around the network."""
    name: str
    description: str                 # what the footer of a table says
    restore: str = 'whole_image'     # Restorer protocol: whole_image | release | partition
    crop_multiple: int = 1           # centre-crop input and target to a multiple (1: none)
    noise: str = 'per_image'         # one of NOISE_KINDS

    def __post_init__(self) -> None:
        if self.noise not in NOISE_KINDS:
            raise ValueError(f'protocol {self.name}: noise {self.noise!r}; one of {NOISE_KINDS}')


COMMON = Protocol('common', 'whole image, centre-cropped to a multiple of 16, fp32, noise drawn once per image '
                  '(this project\'s draw)', crop_multiple=16)
PEERS_TEST = Protocol('peers', "the PromptIR / AirNet / AdaIR test scripts: whole image centre-cropped to a "
                      'multiple of 16, fp32, noise from one np.random.seed(0) stream truncated to 8 bits',
                      crop_multiple=16, noise='sequential')
RELEASE_EVALUATOR = Protocol('release', "the authors' evaluator: full images in 256-px tiles with 32 overlap, each "
                             'reflect-padded to 8 and guided by itself, averaged; bf16 on a GPU',
                             restore='release')
WHOLE_IMAGE = Protocol('whole_image', 'full image, padded by the network to its multiple, fp32')
MAMBAIR_PARTITION = Protocol('mambair', "MambaIR's test: the image cut into (side // 200 + 1) parts per side with "
                             '10% overlap, each restored alone, its own part kept', restore='partition')
