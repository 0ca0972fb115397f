"""The benchmarks all-in-one papers report, as data: where each lives under a test root
(the layout PromptIR / AirNet users already have, ``datasets/test``), its task, and the
dataset options that read it."""
from __future__ import annotations

from dataclasses import dataclass

from ..utils.suggest import did_you_mean

__all__ = ['Benchmark', 'BENCHMARKS', 'SUITES', 'benchmark_named']


@dataclass(frozen=True)
class Benchmark:
    name: str          # the row name, as options/test.yml names its datasets
    task: str
    layout: str
    folder: str        # under the test root
    sigma: float | None = None

    def source(self, root: str) -> dict:
        """The MixedDegradationDataset source that reads it under ``root``."""
        import os

        src = {'task': self.task, 'layout': self.layout, 'dataroot': os.path.join(root, self.folder)}
        if self.sigma is not None:
            src['sigmas'] = [self.sigma]
        return src


BENCHMARKS: dict[str, Benchmark] = {b.name: b for b in (
    *(Benchmark(f'CBSD68_sigma{s}', 'denoise', 'synthetic', 'denoise/bsd68', float(s)) for s in (15, 25, 50)),
    *(Benchmark(f'Urban100_sigma{s}', 'denoise', 'synthetic', 'denoise/urban100', float(s)) for s in (15, 25, 50)),
    Benchmark('SOTS_outdoor', 'dehaze', 'reside_sots', 'dehaze'),
    Benchmark('Rain100L', 'derain', 'input_target', 'derain/Rain100L'),
    Benchmark('GoPro', 'deblur', 'gopro', 'deblur/GoPro/test'),
    Benchmark('LOL', 'lowlight', 'lol', 'lowlight/LOL/eval15'),
)}

# the rows of the all-in-one papers' tables (docs/method.md section 5)
SUITES: dict[str, tuple[str, ...]] = {
    '3task': ('CBSD68_sigma15', 'CBSD68_sigma25', 'CBSD68_sigma50', 'SOTS_outdoor', 'Rain100L'),
    '5task': ('SOTS_outdoor', 'Rain100L', 'CBSD68_sigma25', 'GoPro', 'LOL'),
}


def benchmark_named(name: str, option: str = '--benchmarks') -> Benchmark:
    if name not in BENCHMARKS:
        raise KeyError(f'{option}: {name!r} is not a benchmark.{did_you_mean(name, BENCHMARKS, sentence=True)} '
                       f'Known: {", ".join(BENCHMARKS)}')
    return BENCHMARKS[name]
