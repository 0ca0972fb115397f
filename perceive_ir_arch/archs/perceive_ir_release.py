"""The authors' release (House-yuyu/Perceive-IR ``src/perceiveIR``): its files as PerceiveIR.

The release's ``PerceiveIR`` (stage 2) and ``RestormerMedium`` (stage 1a) compute the same
functions as ``PerceiveIR`` with both guidances on / off, under other parameter names.
This module holds the one key filter for that family (timm's ``checkpoint_filter_fn``
habit) and reads the network options a file implies from its tensors, checked against
the ``config`` the release saves beside them.  Containers (``read_release``):

- stage 2, ``AIO-3D.pth`` / ``AIO-5D.pth`` (best or released): ``{model, iteration, config}``;
  training checkpoints add ``optimizer``, ``scheduler``, ``training_state``;
- stage 1a, ``holdout_<f>/medium_020000.pth``: ``{model, optimizer, scheduler, iteration,
  heldout_fold, ...}``, the restorer trained on the other fold.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import torch

from ..backbones.dinov2 import SEMANTIC_ENCODERS
from ..pretrained import PretrainedFileError, TrainedWeights
from ..pretrained.identify import count_indices
from ..pretrained.trained import register_container

__all__ = ['ReleaseFile', 'is_release_state', 'release_to_perceive_ir', 'read_release', 'RELEASE_TASKS']

# the release's task names (config data.tasks) in this project's words
RELEASE_TASKS = {'denoise': 'denoise', 'dehaze': 'dehaze', 'derain': 'derain',
                 'deblur': 'deblur', 'lowlight': 'lowlight'}
_CONFIG_MODEL_KEYS = {'dim', 'blocks', 'heads', 'refinement_blocks', 'semantic_dim'}


def _sub(rules: tuple[tuple[str, str], ...]) -> Callable[[str], str | None]:
    compiled = [(re.compile(p), r) for p, r in rules]

    def rename(inner: str) -> str | None:
        for pattern, repl in compiled:
            if pattern.fullmatch(inner):
                return pattern.sub(repl, inner)
        return None
    return rename


_FFN = (
    (r'ffn\.project_in\.(weight|bias)', r'ffn.project_in.\1'),
    (r'ffn\.depthwise\.(weight|bias)', r'ffn.dwconv.\1'),
    (r'ffn\.project_out\.(weight|bias)', r'ffn.project_out.\1'),
)

# inside a transformer block (TB)
_tb = _sub((
    (r'norm([12])\.body\.(weight|bias)', r'norm\1.\2'),
    (r'attention\.temperature', 'attn.temperature'),
    (r'attention\.qkv\.(weight|bias)', r'attn.qkv.\1'),
    (r'attention\.qkv_dw\.(weight|bias)', r'attn.qkv_dwconv.\1'),
    (r'attention\.project\.(weight|bias)', r'attn.project_out.\1'),
) + _FFN)

# inside a guided block (ETB): PGCA as "attention", the extra MDTA as "mdta"
_etb = _sub((
    (r'norm1\.body\.(weight|bias)', r'norm_x.\1'),
    (r'guidance_norm\.body\.(weight|bias)', r'norm_g.\1'),
    (r'attention\.q\.0\.(weight|bias)', r'cross_attn.q.\1'),
    (r'attention\.q\.1\.(weight|bias)', r'cross_attn.q_dwconv.\1'),
    (r'attention\.kv\.0\.(weight|bias)', r'cross_attn.kv.\1'),
    (r'attention\.kv\.1\.(weight|bias)', r'cross_attn.kv_dwconv.\1'),
    (r'attention\.temperature', 'cross_attn.temperature'),
    (r'attention\.project\.(weight|bias)', r'cross_attn.project_out.\1'),
    (r'mdta_norm\.body\.(weight|bias)', r'norm_c.\1'),
    (r'mdta\.temperature', 'attn.temperature'),
    (r'mdta\.qkv\.(weight|bias)', r'attn.qkv.\1'),
    (r'mdta\.qkv_dw\.(weight|bias)', r'attn.qkv_dwconv.\1'),
    (r'mdta\.project\.(weight|bias)', r'attn.project_out.\1'),
    (r'norm2\.body\.(weight|bias)', r'norm2.\1'),
) + _FFN)


def _rename(key: str) -> str | None:
    """This project's name of one release key, None for a key the release does not have.

    Levels: the release names them 1-3 (encoder1, decoder3, ...); here encoders run from
    level 1 down and decoders (ups, reduces) from level 3 up; PGM 3 is the latent's."""
    def block(prefix: str, inner: str, guided: bool) -> str | None:
        rest = (_etb if guided else _tb)(inner)
        return None if rest is None else f'{prefix}.{rest}'

    if m := re.fullmatch(r'(embed|output)\.(weight|bias)', key):
        return key
    if m := re.fullmatch(r'encoder([123])\.(\d+)\.(.+)', key):
        return block(f'encoders.{int(m[1]) - 1}.{m[2]}', m[3], False)
    if m := re.fullmatch(r'refinement\.(\d+)\.(.+)', key):
        return block(f'refinement.{m[1]}', m[2], False)
    if m := re.fullmatch(r'down([123])\.body\.0\.(weight|bias)', key):
        return f'downs.{int(m[1]) - 1}.0.{m[2]}'
    if m := re.fullmatch(r'up([123])\.body\.0\.(weight|bias)', key):
        return f'ups.{3 - int(m[1])}.0.{m[2]}'
    if m := re.fullmatch(r'reduce([123])\.(weight|bias)', key):
        return f'reduces.{3 - int(m[1])}.{m[2]}'
    if m := re.fullmatch(r'cfe\.body\.(\d+)\.(weight|bias)', key):
        return f'cfe.features.{m[1]}.{m[2]}'
    if m := re.fullmatch(r'cfe\.projection\.(weight|bias)', key):
        return f'cfe.fc.{m[1]}'
    if m := re.fullmatch(r'pgm\.([0-3])\.affine\.([02])\.(weight|bias)', key):
        level = 'latent' if m[1] == '3' else f'decoders.{2 - int(m[1])}'
        return f'{level}.pgm.mlp.{m[2]}.{m[3]}'
    if m := re.fullmatch(r'latent\.blocks\.(\d+)\.(.+)', key):  # stage 2: guided
        return block(f'latent.blocks.{m[1]}', m[2], True)
    if m := re.fullmatch(r'latent\.(\d+)\.(.+)', key):  # medium: plain
        return block(f'latent.blocks.{m[1]}', m[2], False)
    if m := re.fullmatch(r'decoder([123])\.blocks\.(\d+)\.(.+)', key):
        return block(f'decoders.{3 - int(m[1])}.blocks.{m[2]}', m[3], True)
    if m := re.fullmatch(r'decoder([123])\.(\d+)\.(.+)', key):
        return block(f'decoders.{3 - int(m[1])}.blocks.{m[2]}', m[3], False)
    return None


def is_release_state(state: Any) -> bool:
    """Whether a flat state dict has the release's PerceiveIR / RestormerMedium names."""
    return (isinstance(state, Mapping) and 'embed.weight' in state
            and 'encoder1.0.norm1.body.weight' in state)


def release_to_perceive_ir(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The release's parameter names -> PerceiveIR's; no tensor is changed.

    Raises KeyError listing the keys the release's networks do not have."""
    out, unknown = {}, []
    for key, value in state.items():
        new = _rename(key)
        if new is None:
            unknown.append(key)
        else:
            out[new] = value
    if unknown:
        raise KeyError(f'{len(unknown)} keys are not the release\'s PerceiveIR names '
                       f'({", ".join(unknown[:4])})')
    return out


@dataclass
class ReleaseFile:
    """What a release file holds, in this project's terms."""
    kind: str                       # 'stage2' or 'medium'
    params: dict[str, torch.Tensor]  # PerceiveIR names
    network: dict[str, Any]         # the network_g block that builds it
    tasks: tuple[str, ...] | None = None   # stage 2: config data.tasks
    heldout_fold: int | None = None        # medium: the fold it never saw
    iteration: int | None = None

    def describe(self) -> str:
        n = self.network
        shape = (f"dim {n['dim']}, blocks {list(n['num_blocks'])}, heads {list(n['heads'])}, "
                 f"refinement {n['num_refinement_blocks']}")
        it = f', iteration {self.iteration}' if self.iteration is not None else ''
        if self.kind == 'medium':
            fold = ('' if self.heldout_fold is None else
                    f', held out fold {self.heldout_fold} (trained on fold {1 - self.heldout_fold})')
            return f"the authors' stage-1 medium restorer ({shape}{fold}{it})"
        tasks = f'{len(self.tasks)}-task ({", ".join(self.tasks)})' if self.tasks else 'tasks unknown'
        return f"the authors' Perceive-IR {tasks} checkpoint ({shape}, {n['semantic_encoder']}{it})"


def _implied_network(state: Mapping[str, torch.Tensor], guided: bool) -> dict[str, Any]:
    """The network_g block of a release state dict (release names), from its tensors."""
    dim = int(state['embed.weight'].shape[0])
    latent = r'latent\.blocks\.(\d+)\.' if guided else r'latent\.(\d+)\.'
    blocks = [count_indices(state, rf'encoder{n}\.(\d+)\.') for n in (1, 2, 3)] + [count_indices(state, latent)]
    latent0 = 'latent.blocks.0.mdta.temperature' if guided else 'latent.0.attention.temperature'
    heads = [int(state[f'encoder{n}.0.attention.temperature'].shape[0]) for n in (1, 2, 3)]
    heads.append(int(state[latent0].shape[0]))
    hidden2 = int(state['encoder1.0.ffn.project_in.weight'].shape[0])
    if hidden2 != 2 * int(dim * 2.66):
        raise ValueError(f'its feed-forward width {hidden2} is not the release\'s 2 x int({dim} x 2.66)')
    net = dict(type='PerceiveIR', dim=dim, num_blocks=blocks,
               num_refinement_blocks=count_indices(state, r'refinement\.(\d+)\.'), heads=heads,
               ffn_expansion_factor=2.66, bias=True)
    if not guided:
        return dict(net, semantic_guidance=False, degradation_guidance=False)
    z = int(state['cfe.projection.weight'].shape[0])
    width = int(state['pgm.0.affine.0.weight'].shape[1]) - z
    encoder = next((name for name, spec in SEMANTIC_ENCODERS.items() if spec.width == width), None)
    if encoder is None:
        raise ValueError(f'its guidance takes {width}-d semantic tokens; the release uses DINOv2 '
                         f'ViT-B/14 (768) and no encoder here gives {width}')
    return dict(net, semantic_guidance=True, degradation_guidance=True, semantic_encoder=encoder, degradation_dim=z, cfe_variant='release',
                etb_variant='release', pgm_variant='joint', semantic_antialias=False,
                semantic_pos_antialias=False, guide_padded=True)


def _check_config(config: Any, network: dict[str, Any]) -> tuple[str, ...] | None:
    """The tasks a stage-2 config names, after checking its model section agrees with the
    tensors; ValueError naming what is unknown or contradicts them."""
    if not isinstance(config, Mapping) or not isinstance(config.get('model'), Mapping):
        raise ValueError('its config has no model section (the release saves the training config '
                         'with model: dim, blocks, heads, refinement_blocks)')
    model = config['model']
    unknown = sorted(set(model) - _CONFIG_MODEL_KEYS)
    if unknown:
        raise ValueError(f'its config has model keys this project does not know: {unknown} '
                         f'(known: {sorted(_CONFIG_MODEL_KEYS)})')
    said = {'dim': network['dim'], 'blocks': list(network['num_blocks']), 'heads': list(network['heads']),
            'refinement_blocks': network['num_refinement_blocks'],
            'semantic_dim': SEMANTIC_ENCODERS[network['semantic_encoder']].width}
    for key, value in said.items():
        if key not in model:
            continue
        given = list(model[key]) if isinstance(value, list) else model[key]
        if given != value:
            raise ValueError(f'its config says model.{key}: {model[key]}, its tensors {value}')
    tasks = (config.get('data') or {}).get('tasks') if isinstance(config.get('data'), Mapping) else None
    if tasks is None:
        return None
    bad = [t for t in tasks if t not in RELEASE_TASKS]
    if bad:
        raise ValueError(f'its config names tasks this project does not know: {bad}')
    return tuple(RELEASE_TASKS[t] for t in tasks)


def read_release(data: Any) -> ReleaseFile | None:
    """A release container as a ``ReleaseFile``; None when ``data`` is not one.

    Raises ValueError saying what is wrong with a release file that cannot serve: a stage-2
    checkpoint without its config, a config that contradicts the tensors, unknown keys."""
    if not isinstance(data, Mapping) or not is_release_state(data.get('model')):
        return None
    state = data['model']
    guided = 'pgm.0.affine.0.weight' in state
    try:
        params = release_to_perceive_ir(state)
    except KeyError as exc:
        raise ValueError(str(exc.args[0])) from None
    network = _implied_network(state, guided)
    iteration = data.get('iteration')
    iteration = int(iteration) if isinstance(iteration, int) else None
    if not guided:
        fold = data.get('heldout_fold')
        return ReleaseFile('medium', params, network, heldout_fold=int(fold) if fold in (0, 1) else None,
                           iteration=iteration)
    if 'config' not in data:
        raise ValueError('it is a stage-2 checkpoint without its config (the release saves model, '
                         'iteration and config; this one has ' + ', '.join(map(str, data)) + '), so '
                         'which tasks it was trained for cannot be told')
    tasks = _check_config(data['config'], network)
    return ReleaseFile('stage2', params, network, tasks=tasks, iteration=iteration)


def _read_release_file(data: Any, path: str, option: str) -> TrainedWeights | None:
    """The release's containers for ``read_trained``: the network they imply, renamed."""
    try:
        found = read_release(data)
    except ValueError as exc:
        raise PretrainedFileError(f"{option}: {path} is a file of the authors' Perceive-IR release, "
                                  f'but {exc}') from None
    if found is None:
        return None
    return TrainedWeights(found.params, found.describe(), 'release', found.network,
                          tasks=found.tasks, heldout_fold=found.heldout_fold)


register_container('the authors\' release', _read_release_file)
