"""The paper recipe, rehearsed: the shipped option files, unchanged but for the documented
override set (docs/recipe.md, "Rehearsing the recipe"), every stage, on a replica of the real
datasets' folders, with pretrained files in their published formats (tiny where the
format allows), for the 3-task and the 5-task recipe."""
from __future__ import annotations

import csv
import os
import re
import shutil

import pytest
import torch

from perceive_ir_arch.data.make_replica import make_replica
from tests import published_files as pf
from tests.conftest import REPO, run_python
from tests.release_reference import ReleasePerceiveIR

# the override set, by kind of step (docs/recipe.md, "Rehearsing the recipe")
RUN = ['num_gpu=0', 'logger:print_freq=1', 'logger:save_checkpoint_freq=2', 'logger:use_tb_logger=false']
TRAIN = ['datasets:train:num_worker_per_gpu=0', 'datasets:train:batch_size_per_gpu=2',
         'datasets:train:gt_size=32', 'train:total_iter=2', 'train:scheduler:periods=[2]']
NET = ['network_g:dim=8', 'network_g:num_blocks=[1,1,1,1]', 'network_g:num_refinement_blocks=1',
       'network_g:heads=[1,1,1,1]']
GUIDED = NET + ['network_g:degradation_dim=16', 'network_g:semantic_encoder=dinov2_tiny']
PROXY = ['train:dpl_opt:proxies:0:network:dim=8', 'train:dpl_opt:proxies:0:network:num_blocks=[1,1,1,1]',
         'train:dpl_opt:proxies:0:network:num_refinement_blocks=1',
         'train:dpl_opt:proxies:0:network:heads=[1,1,1,1]', 'train:dpl_opt:probe_crops=2',
         'train:clip_quality_opt:clip_model=clip_tiny', 'val:val_freq=2']

RECIPES = {
    '3task': dict(suffix='', medium='MediumRestorer', prompts='QualityPerceiver', stage2='perceive_ir',
                  test='test', name='PerceiveIR_3task', tasks={'denoise': 4 * 12, 'derain': 2 * 360, 'dehaze': 6},
                  rows=['CBSD68_sigma15', 'CBSD68_sigma25', 'CBSD68_sigma50', 'SOTS_outdoor', 'Rain100L']),
    '5task': dict(suffix='_5task', medium='MediumRestorer5task', prompts='QualityPerceiver_5task',
                  stage2='perceive_ir_5task', test='test_5task', name='PerceiveIR_5task',
                  tasks={'denoise': 4 * 12, 'derain': 2 * 360, 'dehaze': 6, 'deblur': 4 * 30, 'lowlight': 2 * 140},
                  rows=['SOTS_outdoor', 'Rain100L', 'CBSD68_sigma25', 'GoPro', 'LOL']),
}


# the release's peer proxies, tiny: (name in the option files, network overrides, published file)
PEERS = [
    ('promptir', dict(dim=8, num_blocks=[1, 1, 1, 1], num_refinement_blocks=1, heads=[1, 1, 2, 2],
                      prompt_dims=[4, 8, 20], prompt_sizes=[8, 4, 2]), 'model.ckpt'),
    ('instructir', dict(width=8, enc_blk_nums=[1, 1, 1, 1], middle_blk_num=1, dec_blk_nums=[1, 1, 1, 1], txtdim=6),
     'im_instructir-7d.pt'),
    ('fsnet', dict(num_res=4, base_channel=16), 'ots.pkl'),
    *((f'mambair{s}', dict(embed_dim=30, depths=[1], d_state=4), f'ColorDN_MambaIR_level{s}.pth') for s in (15, 25, 50)),
    ('nafnet', dict(width=8, enc_blk_nums=[1, 1, 1, 1], middle_blk_num=1, dec_blk_nums=[1, 1, 1, 1]),
     'NAFNet-GoPro-width32.pth'),
    ('retinexformer', dict(n_feat=8, num_blocks=[1, 1, 1]), 'LOL_v1.pth'),
]


def _peer_overrides(option_file: str, prefix: str = 'train:dpl_opt:') -> list[str]:
    """--force_yml items that shrink every peer proxy the option file lists (``prefix``:
    where the proxies list is: the training file's loss, or the render options)."""
    import yaml

    with open(os.path.join(REPO, 'options', option_file)) as f:
        proxies = yaml.safe_load(f)['train']['dpl_opt']['proxies']
    sizes = {name: net for name, net, _ in PEERS}
    out = []
    for i, proxy in enumerate(proxies):
        for key, value in sizes.get(proxy['name'], {}).items():
            out.append(f'{prefix}proxies:{i}:network:{key}={value}'.replace(' ', ''))
    return out


@pytest.fixture(scope='module')
def weights(tmp_path_factory):
    """$PERCEIVE_IR_WEIGHTS with the pretrained parts and the peer proxies, each in its
    publisher's format (tiny widths)."""
    import yaml
    from basicsr.archs import build_network

    from perceive_ir_arch.losses.proxy import proxy_spec

    root = tmp_path_factory.mktemp('weights')
    pf.write_dinov2_timm(str(root / 'dinov2_tiny.safetensors'), pf.dinov2_state(**pf.TINY_DINOV2))
    pf.write_openai_torchscript(str(root / 'clip_clip_tiny.pt'), pf.clip_model())  # OpenAI's format
    pf.write_vgg16(str(root / 'vgg16-397923af.pth'))
    with open(os.path.join(REPO, 'options', 'perceive_ir_5task.yml')) as f:
        listed = {p['name']: proxy_spec(p, p['name'])['network']
                  for p in yaml.safe_load(f)['train']['dpl_opt']['proxies']}
    for name, tiny, filename in PEERS:
        state = build_network(dict(listed[name], **tiny)).state_dict()
        if filename == 'model.ckpt':  # PyTorch Lightning, the module under net.
            data = {'state_dict': {f'net.{k}': v for k, v in state.items()}, 'epoch': 1}
        elif filename == 'ots.pkl':
            data = {'model': state}
        elif filename == 'im_instructir-7d.pt':
            data = state  # a plain state dict
        else:
            data = {'params': state}  # BasicSR
        torch.save(data, str(root / filename))
    tasks = ('denoise', 'derain', 'dehaze', 'deblur', 'lowlight')
    torch.save({t: torch.randn(6) for t in tasks[:3]}, str(root / 'task_embeddings.pt'))
    torch.save({t: torch.randn(6) for t in tasks}, str(root / 'task_embeddings_five.pt'))
    return str(root)


def _train(cwd, env, option_file, *overrides):
    return run_python(['-m', 'perceive_ir_arch.train', '-opt', os.path.join(REPO, 'options', option_file),
                       '--force_yml', *RUN, *overrides], cwd=cwd, env=env, timeout=600)


def _log(cwd, name) -> str:
    folder = os.path.join(cwd, 'experiments', name)
    logs = sorted(f for f in os.listdir(folder) if f.startswith('train_') and f.endswith('.log'))
    with open(os.path.join(folder, logs[-1])) as f:
        return f.read()


@pytest.mark.parametrize('recipe', sorted(RECIPES))
def test_the_shipped_recipe_runs_every_stage_on_a_replica(tmp_path, weights, recipe, monkeypatch):
    r = RECIPES[recipe]
    cwd = str(tmp_path)
    make_replica(os.path.join(cwd, 'datasets'))
    env = {'PERCEIVE_IR_WEIGHTS': weights, 'HOME': cwd}

    # 1a: a medium restorer per fold
    for fold in (0, 1):
        _train(cwd, env, f'train_medium_restorer{r["suffix"]}.yml', *TRAIN, *NET,
               f'datasets:train:fold={fold}', f'name={r["medium"]}_fold{fold}')
    halves = [re.search(r'(\d+) samples per pass; per task: (.*?); per source', _log(cwd, f'{r["medium"]}_fold{f}'))
              for f in (0, 1)]
    assert all(halves), 'the fold logs name their samples per task'
    assert all(set(t.split(' ')[0] for t in h.group(2).split(', ')) == set(r['tasks']) for h in halves)

    # 1b: each fold rendered by the other fold's restorer (in this process: same command line)
    from perceive_ir_arch.runners.render import main as render
    monkeypatch.setenv('PERCEIVE_IR_WEIGHTS', weights)
    old = os.getcwd()
    os.chdir(cwd)
    try:
        counts = render(['-opt', os.path.join(REPO, 'options', f'render_medium{r["suffix"]}.yml'),
                         '--device', 'cpu', '--force_yml', *NET, *_peer_overrides(f'{r["stage2"]}.yml', '')])
    finally:
        os.chdir(old)
    medium_root = os.path.join(cwd, 'datasets', f'medium{r["suffix"]}')
    rendered = {t: len(os.listdir(os.path.join(medium_root, t))) for t in os.listdir(medium_root)}
    assert set(rendered) == set(r['tasks']) and counts['written'] == sum(
        len(files) for _, _, files in os.walk(medium_root))
    # and the other proxies on the pairs whose degradation is a file, the tasks they handle
    proxy_root = os.path.join(cwd, 'datasets', f'proxies{r["suffix"]}')
    rendered = {p: sorted(os.listdir(os.path.join(proxy_root, p))) for p in os.listdir(proxy_root)}
    expected = {'promptir': ['dehaze', 'derain'], 'instructir': sorted(set(r['tasks']) - {'denoise'}),
                'fsnet': ['dehaze']}
    if recipe == '5task':
        expected.update(nafnet=['deblur'], retinexformer=['lowlight'])
    assert rendered == expected and counts['proxies_written'] == sum(
        len(files) for _, _, files in os.walk(proxy_root))

    # 1c: the prompts, on the published-format CLIP file (OpenAI's TorchScript archive)
    _train(cwd, env, f'train_quality_perceiver{r["suffix"]}.yml', *TRAIN, 'network_g:clip_model=clip_tiny',
           'val:val_freq=2')
    log = _log(cwd, r['prompts'])
    assert 'clip_clip_tiny.pt' in log and 'tier accuracy' in log
    prompts = os.path.join(cwd, 'experiments', r['prompts'], 'models', 'net_g_latest.pth')
    assert sorted(torch.load(prompts, weights_only=True)['params']) == ['ctx', 'tokens']

    # 2: the whole loss, with every part from its published file; the best checkpoint kept
    _train(cwd, env, f'{r["stage2"]}.yml', *TRAIN, *GUIDED, *PROXY, *_peer_overrides(f'{r["stage2"]}.yml'))
    log = _log(cwd, r['name'])
    # every hard negative of the release, each from its publisher's file
    negatives = re.search(r'L_dpl hard negatives: (.*)', log).group(1)
    expected = [f for name, _, f in PEERS if name not in ('nafnet', 'retinexformer') or recipe == '5task']
    assert all(f in negatives for f in expected), negatives
    per_task = re.search(r'samples per pass; per task: (.*?); per source', log).group(1)
    assert dict((t, int(n)) for t, n in (x.split(' ') for x in per_task.split(', '))) == r['tasks']
    for part in ('dinov2_tiny.safetensors', 'clip_clip_tiny.pt', 'vgg16-397923af.pth'):
        assert part in log, part
    assert all(term in log for term in ('l_pix', 'l_cl', 'l_clip', 'l_dpl'))
    assert 'saved as net_g_best.pth' in log
    models = os.path.join(cwd, 'experiments', r['name'], 'models')
    assert os.path.isfile(os.path.join(models, 'net_g_best.pth'))

    # test: the per-task table of the recipe, every dataset row present
    run_python(['-m', 'perceive_ir_arch.test', '-opt', os.path.join(REPO, 'options', f'{r["test"]}.yml'),
                '--force_yml', *RUN[:1], *GUIDED], cwd=cwd, env=env, timeout=600)
    results = [d for d in os.listdir(os.path.join(cwd, 'results')) if d.startswith(r['name'])]
    with open(os.path.join(cwd, 'results', results[0], 'metrics.csv')) as f:
        rows = {row['dataset']: row for row in csv.DictReader(f)}
    assert [d for d in rows if d != 'average'] == r['rows']
    assert all(int(row['images']) > 0 for row in rows.values())

    # the authors' evaluator on a checkpoint in their container (tiny, random weights)
    release = ReleasePerceiveIR(dim=8, blocks=(1, 1, 1, 1), heads=(1, 1, 1, 1), refinement=1, semantic_dim=16)
    aio = os.path.join(cwd, f'AIO{r["suffix"]}.pth')
    torch.save({'model': release.state_dict(), 'iteration': 1,
                'config': {'data': {'tasks': list(r['tasks'])}, 'model': {'dim': 8}}}, aio)
    run_python(['-m', 'perceive_ir_arch.test', '-opt', os.path.join(REPO, 'options', f'{r["test"]}_release.yml'),
                '--force_yml', *RUN[:1], *NET, 'network_g:semantic_encoder=dinov2_tiny',
                f'path:pretrain_network_g={aio}'], cwd=cwd, env=env, timeout=600)
    results = [d for d in os.listdir(os.path.join(cwd, 'results')) if d.startswith(f'{r["name"]}_release')]
    with open(os.path.join(cwd, 'results', results[0], 'metrics.csv')) as f:
        rows = {row['dataset']: row for row in csv.DictReader(f)}
    assert [d for d in rows if d != 'average'] == r['rows']
    shutil.rmtree(os.path.join(cwd, 'datasets'))  # ~30 MB of replica
