"""End to end through BasicSR's runner: PerceiveIR + SRModel on the bundled photos."""
from __future__ import annotations

import csv
import glob
import os
import re
import shutil

import basicsr
import pytest

from tests.conftest import SAMPLES, TINY, run_python, write_yaml

TASKS = ('dehaze', 'lowlight')  # large initial errors: the loss must visibly fall


def train_options(name: str, total_iter: int, save_freq: int, schedule: int | None = None) -> dict:
    return {
        'name': name, 'model_type': 'SRModel', 'scale': 1, 'num_gpu': 0, 'manual_seed': 0,
        'datasets': {'train': {
            'name': 'samples', 'type': 'MixedDegradationDataset',
            'sources': [{'task': t, 'layout': 'synthetic', 'dataroot': os.path.join(SAMPLES, 'train'),
                         'repeat': 10} for t in TASKS],
            'gt_size': 32, 'use_hflip': True, 'io_backend': {'type': 'disk'}, 'use_shuffle': True,
            'num_worker_per_gpu': 0, 'batch_size_per_gpu': 4, 'dataset_enlarge_ratio': 1,
            'prefetch_mode': None}},
        'network_g': dict(TINY, type='PerceiveIR'),
        'path': {'pretrain_network_g': None, 'strict_load_g': True, 'resume_state': None},
        'train': {'ema_decay': 0.9,
                  'optim_g': {'type': 'Adam', 'lr': 3e-3, 'weight_decay': 0, 'betas': [0.9, 0.999]},
                  'scheduler': {'type': 'CosineAnnealingRestartLR', 'periods': [schedule or total_iter],
                                'restart_weights': [1], 'eta_min': 1e-4},
                  'total_iter': total_iter, 'warmup_iter': -1,
                  'pixel_opt': {'type': 'L1Loss', 'loss_weight': 1.0, 'reduction': 'mean'}},
        'logger': {'print_freq': 1, 'save_checkpoint_freq': save_freq, 'use_tb_logger': False,
                   'wandb': {'project': None, 'resume_id': None}},
    }


def eval_options(name: str, weights: str) -> dict:
    return {
        'name': name, 'model_type': 'SRModel', 'scale': 1, 'num_gpu': 0, 'manual_seed': 0,
        'datasets': {f'test_{i}': {
            'name': t, 'type': 'MixedDegradationDataset', 'io_backend': {'type': 'disk'},
            'sources': [{'task': t, 'layout': 'synthetic', 'dataroot': os.path.join(SAMPLES, 'test')}]}
            for i, t in enumerate(TASKS, 1)},
        'network_g': dict(TINY, type='PerceiveIR'),
        'path': {'pretrain_network_g': weights, 'strict_load_g': True, 'param_key_g': 'params_ema'},
        'val': {'save_img': True, 'suffix': 'restored', 'metrics': {
            'psnr': {'type': 'calculate_psnr', 'crop_border': 0, 'test_y_channel': False},
            'ssim': {'type': 'calculate_ssim_skimage'}}},
    }


def losses(log_text: str) -> dict[int, float]:
    return {int(it): float(v) for it, v in re.findall(r'iter:\s+(\d+),.*?l_pix: ([0-9.e+-]+)', log_text)}


def read_log(root: str, name: str) -> str:
    logs = sorted(glob.glob(os.path.join(root, 'experiments', name, 'train_*.log')))
    return '\n'.join(open(p).read() for p in logs)


def test_train_resume_and_test_with_the_plugin_entry_points(tmp_path):
    root = str(tmp_path)
    opt = write_yaml(os.path.join(root, 'train.yml'), train_options('tiny', 12, 6, schedule=16))
    run_python(['-m', 'perceive_ir_arch.train', '-opt', opt], cwd=root)
    exp = os.path.join(root, 'experiments', 'tiny')
    assert sorted(os.listdir(os.path.join(exp, 'training_states'))) == ['12.state', '6.state']
    first = losses(read_log(root, 'tiny'))
    assert sorted(first) == list(range(1, 13))
    head, tail = sum(first[i] for i in (1, 2, 3)) / 3, sum(first[i] for i in (10, 11, 12)) / 3
    assert tail < 0.8 * head, f'loss did not go down: {first}'

    # resume on CPU (BasicSR's own resume would call torch.cuda.current_device())
    proc = run_python(['-m', 'perceive_ir_arch.train', '-opt', opt, '--auto_resume',
                       '--force_yml', 'train:total_iter=16'], cwd=root)
    log = read_log(root, 'tiny')
    assert 'Resuming training from epoch' in log and 'iter: 12.' in log, proc.stdout[-2000:]
    assert max(losses(log)) == 16
    assert os.path.isfile(os.path.join(exp, 'models', 'net_g_latest.pth'))

    # per-task test table, restored images beside their inputs, a comparison image
    topt = write_yaml(os.path.join(root, 'test.yml'),
                      eval_options('tiny', os.path.join(exp, 'models', 'net_g_latest.pth')))
    run_python(['-m', 'perceive_ir_arch.test', '-opt', topt], cwd=root)
    res = os.path.join(root, 'results', 'tiny')
    rows = list(csv.DictReader(open(os.path.join(res, 'metrics.csv'))))
    assert [r['dataset'] for r in rows] == list(TASKS) + ['average']
    for r in rows:
        assert 0 < float(r['input_psnr']) < 60 and 0 < float(r['restored_ssim']) <= 1
    for t in TASKS:
        shown = sorted(os.listdir(os.path.join(res, 'visualization', t)))
        assert shown == [f'chelsea_{t}_input.png', f'chelsea_{t}_restored.png']
    assert os.path.getsize(os.path.join(res, 'comparison.png')) > 10_000


@pytest.mark.parametrize('change,message', [
    ({'network_g': dict(TINY, type='PerceveIR')},
     "network_g.type: 'PerceveIR' is not in the arch registry. Did you mean 'PerceiveIR'"),
    ({'train': {'perceptual_opt': {'type': 'DifficultyAdaptivePerceptualLoss'}}},
     'train.perceptual_opt: DifficultyAdaptivePerceptualLoss is not an image loss'),
])
def test_the_plugin_runner_stops_a_wrong_option_file_before_anything_is_built(tmp_path, change, message):
    root = str(tmp_path)
    opt = train_options('wrong', 2, 2)
    for key, value in change.items():
        opt[key] = dict(opt[key], **value) if key == 'train' else value
    proc = run_python(['-m', 'perceive_ir_arch.train', '-opt', write_yaml(os.path.join(root, 'o.yml'), opt)],
                      cwd=root, check=False)
    assert proc.returncode != 0 and message in proc.stderr, proc.stderr[-2000:]
    assert not os.path.exists(os.path.join(root, 'experiments', 'wrong'))  # before any folder or step


def test_basicsr_checkout_runner_finds_the_plugin(tmp_path):
    """`python basicsr/train.py -opt ...` / `basicsr/test.py` in a BasicSR source checkout:
    the sdist's own scripts stand in for the checkout; no import of the plugin is written."""
    root = str(tmp_path)
    os.makedirs(os.path.join(root, 'basicsr'))
    for script in ('train.py', 'test.py'):
        shutil.copy(os.path.join(os.path.dirname(basicsr.__file__), script),
                    os.path.join(root, 'basicsr', script))
    opt = write_yaml(os.path.join(root, 'train.yml'), train_options('checkout', 2, 2))
    run_python(['basicsr/train.py', '-opt', opt], cwd=root)
    weights = os.path.join(root, 'experiments', 'checkout', 'models', 'net_g_latest.pth')
    assert os.path.isfile(weights)
    topt = write_yaml(os.path.join(root, 'test.yml'), eval_options('checkout', weights))
    out = run_python(['basicsr/test.py', '-opt', topt], cwd=root)
    assert 'Validation dehaze' in out.stdout + out.stderr
    assert os.path.isfile(os.path.join(root, 'results', 'checkout', 'visualization', 'lowlight',
                                       'chelsea_lowlight_restored.png'))



def test_a_killed_run_resumes_from_its_last_complete_state(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    root = str(tmp_path)
    opt = write_yaml(os.path.join(root, 'train.yml'), train_options('killed', 400, 4))
    states = os.path.join(root, 'experiments', 'killed', 'training_states')
    models = os.path.join(root, 'experiments', 'killed', 'models')
    proc = subprocess.Popen([sys.executable, '-m', 'perceive_ir_arch.train', '-opt', opt], cwd=root,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 240
        while not os.path.isfile(os.path.join(states, '8.state')) and time.time() < deadline:
            assert proc.poll() is None, 'training ended before it could be killed'
            time.sleep(0.05)
        time.sleep(0.3)  # somewhere inside a later iteration
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    import torch

    saved = sorted(int(n[:-6]) for n in os.listdir(states) if n.endswith('.state'))
    newest = os.path.join(states, f'{saved[-1]}.state')
    with open(newest, 'rb') as f:
        head = f.read(200)
    try:
        torch.load(newest, weights_only=True)
        complete = True
    except Exception:  # noqa: BLE001
        complete = False
    # what a kill during a (non-atomic) save leaves: a truncated newer state with its
    # network, and the temporary of an atomic save that never got renamed
    if complete:
        done, cut = saved[-1], saved[-1] + 4
        with open(os.path.join(states, f'{cut}.state'), 'wb') as f:
            f.write(head)
        shutil.copy(os.path.join(models, f'net_g_{done}.pth'), os.path.join(models, f'net_g_{cut}.pth'))
    else:  # the kill landed in the newest save itself: it is the truncated state
        done, cut = saved[-2], saved[-1]
    with open(os.path.join(states, f'.{cut + 4}.state.x1y2.tmp'), 'wb') as f:
        f.write(head)

    total = done + 3
    out = run_python(['-m', 'perceive_ir_arch.train', '-opt', opt, '--auto_resume',
                      '--force_yml', f'train:total_iter={total}'], cwd=root)
    log = read_log(root, 'killed')
    assert f'skipping {os.path.join(states, f"{cut}.state")}' in out.stderr + out.stdout + log
    assert f'iter: {done}.' in log and 'Resuming training from epoch' in log
    resumed = losses(log.split('Resuming training from epoch')[-1])
    assert sorted(resumed) == list(range(done + 1, total + 1))

    # the same loss curve as a run never interrupted (data order, crops and flips included),
    # although that run loads its data with two worker processes and the killed one with none
    straight = train_options('straight', 400, 4)
    straight['datasets']['train']['num_worker_per_gpu'] = 2
    sopt = write_yaml(os.path.join(root, 'straight.yml'), straight)
    run_python(['-m', 'perceive_ir_arch.train', '-opt', sopt, '--force_yml', f'train:total_iter={total}'],
               cwd=root)
    uninterrupted = losses(read_log(root, 'straight'))
    assert resumed == {i: uninterrupted[i] for i in resumed}, (resumed, uninterrupted)
    torch.load(os.path.join(models, 'net_g_latest.pth'), weights_only=True)
