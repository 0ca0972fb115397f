"""The restorers the plugin runs by name (timm's pretrained configs, pyiqa's default model
configs): one entry binds a network, its published weights, the tasks it was trained for,
its publisher's test protocol and the numbers its publisher reports.

Adding a model: its ``*_arch.py`` (the publisher's parameter names) and one entry here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from ..pretrained.parts import PRETRAINED_PARTS
from ..published import PUBLISHED_RESULTS, PUBLISHED_TASKS
from ..utils.suggest import did_you_mean
from .protocols import MAMBAIR_PARTITION, PEERS_TEST, RELEASE_EVALUATOR, WHOLE_IMAGE, Protocol

__all__ = ['Published', 'ModelEntry', 'MODELS', 'model_entry', 'list_models', 'table_markdown']

_ALL3, _ALL5 = PUBLISHED_TASKS['3task'], PUBLISHED_TASKS['5task']
_METRIC = 'PSNR (dB) / SSIM on RGB'
_PAPER_TABLE = 'the 3-task table of the Perceive-IR paper (docs/method.md section 5)'


@dataclass(frozen=True)
class Published:
    """What the publisher reports: benchmark (or 'average') -> (PSNR, SSIM or None)."""
    results: Mapping[str, tuple[float, float | None]]
    source: str
    metric: str = _METRIC


@dataclass(frozen=True)
class ModelEntry:
    name: str
    title: str
    weights: str                               # a PRETRAINED_PARTS name, found by the lookup rule
    tasks: tuple[str, ...]
    protocol: Protocol
    network: Mapping[str, Any] | None = None   # None: the weights file says (the authors' files)
    published: Published | None = None
    task_inputs: str | None = None             # a file of one input vector per task (InstructIR)
    output: int | None = None                  # the element of a list output that is the image
    notes: tuple[str, ...] = field(default_factory=tuple)

    def published_for(self, benchmark: str) -> tuple[float, float | None] | None:
        return None if self.published is None else self.published.results.get(benchmark)


def _paper(key: str) -> Published:
    return Published(dict(PUBLISHED_RESULTS[key]), f'the Perceive-IR paper, {key} table (docs/method.md section 5)')


def _three(rows: tuple[tuple[float, float], ...], source: str) -> Published:
    names = ('CBSD68_sigma15', 'CBSD68_sigma25', 'CBSD68_sigma50', 'SOTS_outdoor', 'Rain100L')
    return Published(dict(zip(names, rows)), source)


_MAMBAIR = {'type': 'MambaIR', 'embed_dim': 180, 'depths': [6, 6, 6, 6, 6, 6], 'd_state': 16, 'mlp_ratio': 1.2}

MODELS: dict[str, ModelEntry] = {m.name: m for m in (
    ModelEntry('perceive_ir_3task', "Perceive-IR, the authors' 3-task model (AIO-3D.pth)", 'perceive_ir_3task', _ALL3,
               RELEASE_EVALUATOR, published=_paper('3task')),
    ModelEntry('perceive_ir_5task', "Perceive-IR, the authors' 5-task model (AIO-5D.pth)", 'perceive_ir_5task', _ALL5,
               RELEASE_EVALUATOR, published=_paper('5task')),
    ModelEntry('promptir_allinone', 'PromptIR (NeurIPS 2023), 3-task all-in-one', 'promptir_allinone', _ALL3,
               PEERS_TEST, {'type': 'PromptIR'},
               _three(((33.98, .933), (31.31, .888), (28.06, .799), (30.58, .974), (36.37, .972)), _PAPER_TABLE)),
    ModelEntry('adair_3task', 'AdaIR (ICLR 2025), 3-task all-in-one', 'adair_3task', _ALL3, PEERS_TEST,
               {'type': 'AdaIR'}, Published({'average': (32.69, None)},
                                            "the average its repository and the all-in-one survey list "
                                            '(docs/method.md section 5); per-task figures not recorded here')),
    ModelEntry('adair_5task', 'AdaIR (ICLR 2025), 5-task all-in-one', 'adair_5task', _ALL5, PEERS_TEST,
               {'type': 'AdaIR'}, Published({'average': (30.20, None)},
                                            "the average its repository and the all-in-one survey list "
                                            '(docs/method.md section 5); per-task figures not recorded here')),
    ModelEntry('airnet_3task', 'AirNet (CVPR 2022), 3-task all-in-one', 'airnet_3task', _ALL3, PEERS_TEST,
               {'type': 'AirNet'},
               _three(((33.92, .932), (31.26, .888), (28.00, .797), (27.94, .962), (34.90, .967)), _PAPER_TABLE)),
    ModelEntry('instructir_7d', 'InstructIR (ECCV 2024), the 7-degradation model, given the release\'s task vectors',
               'instructir_7d', _ALL5, WHOLE_IMAGE,
               {'type': 'InstructIR', 'width': 32, 'enc_blk_nums': [2, 2, 4, 8], 'middle_blk_num': 4,
                'dec_blk_nums': [2, 2, 2, 2], 'txtdim': 256},
               Published({'CBSD68_sigma15': (33.99, 0.932)},
                         "its README's example evaluation log, with its own text encoder (here the "
                         "authors' fixed task vectors stand in for the instruction)"),
               task_inputs='instructir_task_embeddings_five',
               notes=('the instruction is the release\'s fixed vector of the task (task_embeddings_five.pt), '
                      'not a text encoded by its language model',)),
    ModelEntry('fsnet_ots', 'FSNet (TPAMI 2023), dehazing, trained on RESIDE OTS', 'fsnet_ots', ('dehaze',),
               WHOLE_IMAGE, {'type': 'FSNet', 'num_res': 16},
               Published({'SOTS_outdoor': (40.40, 0.997)}, 'its README (Dehazing, SOTS-Outdoor)'), output=2),
    *(ModelEntry(f'mambair_denoise{s}', f'MambaIR (ECCV 2024), colour denoising at sigma {s}',
                 f'mambair_denoise{s}', ('denoise',), MAMBAIR_PARTITION, _MAMBAIR,
                 Published({f'Urban100_sigma{s}': (psnr, None)}, 'its README model table (Urban100)'))
      for s, psnr in ((15, 35.17), (25, 32.99), (50, 30.07))),
    ModelEntry('nafnet_gopro_w32', 'NAFNet (ECCV 2022), GoPro deblurring, width 32, tested as its publisher does '
               '(NAFNetLocal)', 'nafnet_gopro_width32', ('deblur',), WHOLE_IMAGE,
               {'type': 'NAFNetLocal', 'width': 32, 'enc_blk_nums': [1, 1, 1, 28], 'middle_blk_num': 1,
                'dec_blk_nums': [1, 1, 1, 1]},
               notes=('published numbers not recorded here (its README gives no table)',)),
    ModelEntry('retinexformer_lol_v1', 'Retinexformer (ICCV 2023), LOL-v1 low-light enhancement',
               'retinexformer_lol_v1', ('lowlight',), WHOLE_IMAGE,
               {'type': 'RetinexFormer', 'n_feat': 40, 'stage': 1, 'num_blocks': [1, 2, 2]},
               notes=('published numbers not recorded here (its README shows them as an image)',)),
)}


def model_entry(name: str, option: str = 'model') -> ModelEntry:
    """The table's entry, or a KeyError with the closest names."""
    if name not in MODELS:
        raise KeyError(f'{option}: {name!r} is not a model of the table.'
                       f'{did_you_mean(str(name), MODELS, n=3, cutoff=0.5, sentence=True)} '
                       f'Models: {", ".join(MODELS)}')
    return MODELS[name]


def list_models(pattern: str = '*') -> list[str]:
    """The names of the table (open_clip's ``list_pretrained``, timm's ``list_models``)."""
    import fnmatch

    return [name for name in MODELS if fnmatch.fnmatchcase(name, pattern)]


def table_markdown() -> str:
    """The table as docs/models.md shows it (the docs are tested against this)."""
    lines = ['| model | network | tasks | weights file | protocol | published |', '|---|---|---|---|---|---|']
    for e in MODELS.values():
        network = e.network['type'] if e.network else 'from the file (PerceiveIR)'
        published = ('; '.join(f'{k} {v[0]:.2f}' + (f' / {v[1]:.3f}' if v[1] is not None else '')
                               for k, v in e.published.results.items()) if e.published else '—')
        lines.append(f'| `{e.name}` | {network} | {", ".join(e.tasks)} | '
                     f'{PRETRAINED_PARTS[e.weights].published_name()} | {e.protocol.name} | {published} |')
    return '\n'.join(lines)
