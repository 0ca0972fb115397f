"""What every benchmark script shares: the machine description and where results go."""
from __future__ import annotations

import json
import os
import platform

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'results')


def machine(device: str = 'cpu') -> dict:
    import torch

    name = 'cpu'
    if device != 'cpu' and torch.cuda.is_available():
        name = torch.cuda.get_device_name(torch.device(device))
    return {'platform': platform.platform(), 'processor': platform.processor() or platform.machine(),
            'cpu_count': os.cpu_count(), 'torch': torch.__version__,
            'threads': torch.get_num_threads(), 'device': name}


def write_results(name: str, data: dict, table: str) -> None:
    """benchmarks/results/<name>.json and .md (the printed table)."""
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, f'{name}.json'), 'w') as f:
        json.dump(data, f, indent=2)
    with open(os.path.join(RESULTS, f'{name}.md'), 'w') as f:
        f.write(table + '\n')


def report(name: str, title: str, header: list[str], cells: list[list[str]], data: dict) -> None:
    """Print a Markdown table under ``title`` and write it with ``data`` (write_results)."""
    lines = [title, '', '| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    lines += ['| ' + ' | '.join(row) + ' |' for row in cells]
    text = '\n'.join(lines)
    print(text)
    write_results(name, data, text)


DEMO_TASKS = ('denoise', 'derain', 'dehaze', 'deblur', 'lowlight')


def eval_set(task: str, root: str):
    """One task's evaluation samples (fixed degradations, sigma 25 for noise) of the photos
    in ``root`` (relative to the repository)."""
    from perceive_ir_arch.data.mixed_degradation_dataset import MixedDegradationDataset

    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    src = {'task': task, 'layout': 'synthetic', 'dataroot': os.path.join(repo, root)}
    if task == 'denoise':
        src['sigmas'] = [25]
    return MixedDegradationDataset({'name': task, 'phase': 'val', 'sources': [src],
                                    'io_backend': {'type': 'disk'}})


def tile_vectors(net, root: str, tile: int = 48) -> dict:
    """Per task, the degradation vectors z of every ``tile`` px tile of the evaluation
    samples of the photos in ``root``."""
    import torch

    zs = {}
    for task in DEMO_TASKS:
        tiles = [s['lq'][:, i:i + tile, j:j + tile] for s in eval_set(task, root)
                 for i in range(0, s['lq'].shape[1] - tile + 1, tile)
                 for j in range(0, s['lq'].shape[2] - tile + 1, tile)]
        zs[task] = net.degradation_vector(torch.stack(tiles))
    return zs


def stand_in_files(opt: dict, tmp: str, proxy_overrides: dict | None = None, external: bool = False) -> dict:
    """Random stand-ins, written under ``tmp``, for every file a training option dict names
    (and no stage-1b renders):
    the pretrained parts built random (``~``), a prompt file, the proxies' checkpoints (one
    per fold for a cross-fitted proxy) and task inputs.  ``proxy_overrides`` reshapes the
    PerceiveIR proxies' network; ``external``: keep the peers marked external (PromptIR,
    InstructIR, FSNet, MambaIR, ...), else ``external_proxies: false``."""
    import torch
    from basicsr.archs import build_network

    from perceive_ir_arch.archs import CLIPQualityPerceiver
    from perceive_ir_arch.losses.proxy import proxy_spec
    from perceive_ir_arch.tasks import TASKS

    opt['network_g']['semantic_pretrained'] = None
    opt['datasets']['train']['proxy_root'] = None  # nothing rendered: every proxy computed
    opt['datasets']['train']['medium_root'] = None  # the step's batch brings its own medium tier
    train = opt['train']
    clip = train.get('clip_quality_opt')
    if clip:
        clip['clip_pretrained'] = None
        prompts = os.path.join(tmp, 'prompts.pth')
        torch.save({'params': CLIPQualityPerceiver(clip.get('clip_model', 'ViT-B-32')).state_dict()}, prompts)
        clip['prompt_file'] = prompts
    dpl = train.get('dpl_opt')
    if dpl:
        dpl['vgg_pretrained'] = None
        dpl['probe_crops'] = 1  # the probe is an epoch-level cost, not a step's
        dpl['external_proxies'] = external
        for i, proxy in enumerate(dpl.get('proxies') or []):
            proxy = dpl['proxies'][i] = proxy_spec(proxy, f'proxies[{i}]')  # a model of the table, filled in
            if proxy.get('external') and not external:
                continue
            if proxy['network']['type'] == 'PerceiveIR':
                proxy['network'] = dict(proxy['network'], **(proxy_overrides or {}))
            net = build_network(dict(proxy['network']))
            ckpts = [os.path.join(tmp, f'proxy{i}_{k}.pth') for k in range(2 if 'checkpoints' in proxy else 1)]
            for ckpt in ckpts:
                torch.save({'params': net.state_dict()}, ckpt)
            proxy.update({'checkpoints': ckpts} if 'checkpoints' in proxy else {'checkpoint': ckpts[0]})
            if 'task_inputs' in proxy:
                proxy['task_inputs'] = os.path.join(tmp, f'proxy{i}_task_inputs.pt')
                width = proxy['network'].get('txtdim', 768)
                torch.save({t: torch.randn(width) for t in TASKS}, proxy['task_inputs'])
    return opt
