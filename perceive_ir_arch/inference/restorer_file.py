"""The restorer file: one file with everything ``--weights`` needs.

It holds the network as data (its BasicSR ``network_g`` block, without file paths), its
parameters and which semantic encoder it was trained with.  Frozen pretrained parts are
never inside; the DINOv2 file is found at load time by the lookup rule of
``perceive_ir_arch.pretrained``.  BasicSR's own ``net_g_*.pth`` files load too, with the
option file that built them.
"""
from __future__ import annotations

import os
from typing import Any, Mapping

import torch
from torch import nn

from ..backbones.dinov2 import build_semantic_encoder
from ..pretrained import PretrainedFileError, TrainedWeights, describe, load_trained, locate, read_trained
from ..pretrained.trained import register_container
from ..registry import build_network, network_options
from ..utils.files import atomic_torch_save
from ..utils.yaml_file import read_yaml
from ..zoo import MODELS, create_network, model_entry, model_network

__all__ = ['FORMAT', 'save_restorer', 'network_from_file', 'read_options']

FORMAT = 'perceive-ir-restorer'
# 2: semantic_antialias recorded (version 1 files resized the image with antialiasing);
# 3: semantic_pos_antialias recorded (earlier files resized DINOv2's position embedding
# with antialiasing, timm's default then); 4: guide_padded recorded (earlier files guided
# from the image as given)
_VERSION = 4


def save_restorer(path: str, net: nn.Module, network_opt: Mapping[str, Any] | None = None,
                  params: Mapping[str, torch.Tensor] | None = None) -> None:
    """Write a restorer file: ``network_opt`` (a BasicSR ``network_g`` block; PerceiveIR
    knows its own), ``params`` (default: ``net.state_dict()``) and the semantic encoder's
    identity.  Atomic: an interrupted save leaves no file."""
    # a model of the table (a list output, a task input) says what it is and how it restores
    record = net.restorer_record() if hasattr(net, 'restorer_record') else {}
    opt = dict(network_opt) if network_opt is not None else dict(record.get('network') or network_options(net))
    if 'type' not in opt:
        raise ValueError(f'save_restorer: network_opt for {type(net).__name__} has no type')
    opt.pop('semantic_pretrained', None)  # a path on this machine; the identity goes instead
    # a network whose frozen parts are outside its state_dict says which they are
    semantic = net.semantic_identity() if hasattr(net, 'semantic_identity') else None
    state = params if params is not None else net.state_dict()
    contents = {'format': FORMAT, 'version': _VERSION, 'network': opt, 'semantic': semantic,
                'params': {k: v.detach().cpu() for k, v in state.items()}}
    if record.get('model'):
        contents['model'] = record['model']
    atomic_torch_save(contents, path)


def read_options(opt: str | Mapping[str, Any], option: str = 'opt') -> dict:
    """A BasicSR option file (or dict) that has a network_g block."""
    if isinstance(opt, Mapping):
        return dict(opt)
    data = read_yaml(opt, option)
    if not isinstance(data, dict) or not isinstance(data.get('network_g'), dict):
        raise ValueError(f'{option}: option file {opt!r} has no network_g block')
    return data


def restorer_contents(data: Mapping[str, Any]) -> tuple[dict, dict, dict | None]:
    """(network options, parameters, semantic identity) of a loaded restorer file, its
    options completed with what files of earlier versions ran."""
    version = data.get('version', 1)
    if not isinstance(version, int) or version > _VERSION:
        raise ValueError(f'of format version {version!r}, written by a newer perceive-ir than this one '
                         f'(which reads versions 1 to {_VERSION}); upgrade perceive-ir to read it')
    if not isinstance(data.get('network'), Mapping) or not isinstance(data.get('params'), Mapping):
        raise ValueError('without its network options or parameters (damaged)')
    network_opt, params = dict(data['network']), data['params']
    if network_opt.get('type') == 'PerceiveIR':
        if version < 2:
            network_opt.setdefault('semantic_antialias', True)
        if version < 3:
            network_opt.setdefault('semantic_pos_antialias', True)
        if version < 4:
            network_opt.setdefault('guide_padded', False)
    return network_opt, params, data.get('semantic')


def _read_restorer_file(data: Any, path: str, option: str) -> TrainedWeights | None:
    """The restorer-file container for ``read_trained``."""
    if not (isinstance(data, Mapping) and data.get('format') == FORMAT):
        return None
    try:
        network, params, semantic = restorer_contents(data)
    except ValueError as exc:
        raise PretrainedFileError(f'{option}: {path} is a perceive-ir restorer file, but {exc}') from None
    return TrainedWeights(params, describe(data), 'restorer', network, semantic, model=data.get('model'))


register_container('perceive-ir restorer', _read_restorer_file)


def network_from_file(weights: str, opt: str | Mapping[str, Any] | None = None,
                 semantic_weights: str | None = None, param_key: str | None = None,
                 flags: Mapping[str, str] | None = None) -> nn.Module:
    """Build the network a file describes, with its weights, in eval mode on the CPU: a
    restorer file, a file of the authors' release (its options from the file), or a
    BasicSR ``net_g`` file with ``opt``, the option file that built it.  Nothing is
    unpickled that could run code.

    ``flags`` renames the arguments in messages (``{'weights': '--weights', ...}`` for the
    command); a network trained with the real semantic encoder finds its file by the
    lookup rule of ``perceive_ir_arch.pretrained`` unless ``semantic_weights`` names it."""
    name = {'weights': 'weights', 'opt': 'opt', 'semantic_weights': 'semantic_weights', **(flags or {})}
    entry = MODELS.get(weights) if isinstance(weights, str) and not os.path.isfile(weights) else None
    if entry is not None and opt is not None:
        raise ValueError(f'{name["weights"]}: {weights} is a model of the table, which says its network; '
                         f'leave out {name["opt"]}')
    if entry is not None and entry.network is not None:
        return create_network(weights, option=name['weights'])
    trained = read_trained(str(weights), name['weights'], param_key)
    encoder = None
    if trained.network is not None:  # the file says what it is
        network_opt = dict(trained.network)
        if opt is not None:
            _agrees(network_opt, read_options(opt, name['opt'])['network_g'], weights, opt, name)
        semantic = trained.semantic
        if trained.container == 'release' and network_opt.get('semantic_guidance'):
            semantic = {'name': network_opt['semantic_encoder'], 'random': False}
        if semantic and not semantic.get('random'):
            # the file is not in the restorer: the argument names it, else the lookup rule
            encoder = _semantic_encoder(network_opt, semantic['name'], semantic_weights or True,
                                        name['semantic_weights'])
    else:
        if opt is None:
            raise ValueError(f'{name["weights"]}: {weights} is {trained.what}: a BasicSR checkpoint '
                             'holds no network options; give the option file whose network_g built it '
                             f'({name["opt"]}), or convert it once with `perceive-ir pack`')
        network_opt = dict(read_options(opt, name['opt'])['network_g'])
        # a semantic encoder is named by the options of the networks that take one
        encoder_name = _guiding_encoder(network_opt)
        if encoder_name is not None:
            given = network_opt.get('semantic_pretrained')
            if given not in (None, False) or semantic_weights is not None:
                encoder = (_semantic_encoder(network_opt, encoder_name, semantic_weights, name['semantic_weights'])
                           if semantic_weights is not None else
                           _semantic_encoder(network_opt, encoder_name, given, 'network_g.semantic_pretrained'))
    net = build_network(network_opt)
    del encoder  # the network holds the shared encoder now
    net = load_trained(net, trained, name['weights'], str(weights))
    if trained.model is not None:  # a packed model of the table restores as that model
        net = model_network(model_entry(trained.model, name['weights']), net)
    return net.eval()


def _agrees(in_file: Mapping[str, Any], given: Mapping[str, Any], weights: str, opt: Any,
            name: Mapping[str, str]) -> None:
    """A file that records its network and an option file that says otherwise: refused
    rather than one of them silently ignored (paths of pretrained parts aside)."""
    differ = [k for k in given if k in in_file and k != 'semantic_pretrained' and given[k] != in_file[k]]
    if differ:
        shown = ', '.join(f'{k}: {given[k]!r} there, {in_file[k]!r} in the file' for k in differ[:4])
        raise ValueError(f'{name["weights"]}: {weights} records its network, and {name["opt"]} {opt} '
                         f'contradicts it ({shown}); leave out {name["opt"]}: the file says what it is')


def _guiding_encoder(network_opt: Mapping[str, Any]) -> str | None:
    """The semantic encoder a ``network_g`` block guides with (its option or the class
    default), None when its class takes no ``semantic_encoder`` or guidance is off."""
    import inspect

    from basicsr.utils.registry import ARCH_REGISTRY

    if network_opt.get('type') not in ARCH_REGISTRY:
        return None  # build_network names the unknown type
    params = inspect.signature(ARCH_REGISTRY.get(network_opt['type'])).parameters
    if 'semantic_encoder' not in params or not network_opt.get('semantic_guidance', True):
        return None
    return network_opt.get('semantic_encoder', params['semantic_encoder'].default)


def _semantic_encoder(network_opt: dict, encoder_name: str, value: str | bool, label: str):
    """Build the frozen semantic encoder ``encoder_name`` (a path, or true for the lookup
    rule) so that a wrong or missing file is reported under ``label``, the name the user
    wrote; the network built next shares this encoder."""
    network_opt['semantic_encoder'] = encoder_name
    path = locate(encoder_name, value, label)
    network_opt['semantic_pretrained'] = path
    return build_semantic_encoder(encoder_name, path, option=label,
                                  antialias=bool(network_opt.get('semantic_antialias', False)),
                                  pos_antialias=bool(network_opt.get('semantic_pos_antialias', False)))
