"""DDP through the plugin's runner on CPU: torchrun, gloo, two processes."""
from __future__ import annotations

import os

import pytest
import torch

from tests.conftest import SAMPLES, run_python, write_yaml
from tests.test_pipeline import train_options

# Runs the plugin's entry point and then saves this rank's weights, so the test can
# compare the ranks (BasicSR itself saves from rank 0 only).
RANK_SCRIPT = '''
import sys
import torch, torch.distributed as dist
import basicsr.train as runner
import perceive_ir_arch.runners.train as plugin

built = {}
build_model = runner.build_model
def capture(opt):
    built['model'] = build_model(opt)
    return built['model']
runner.build_model = capture
plugin.main()
model = built['model']
net = model.get_bare_model(model.net_g)
torch.save({k: v.cpu() for k, v in net.state_dict().items()}, f'rank{dist.get_rank()}.pth')
print('world', dist.get_world_size(), 'backend', dist.get_backend())
'''


@pytest.mark.parametrize('accumulate', [1, 2])
def test_two_cpu_processes_train_in_lockstep(tmp_path, accumulate):
    root = str(tmp_path)
    opt = train_options('ddp', total_iter=4, save_freq=100)
    opt['model_type'] = 'PerceiveIRModel'
    opt['num_gpu'] = 'auto'
    train_set = opt['datasets']['train']
    train_set['sources'] = [{'task': t, 'layout': 'synthetic', 'dataroot': os.path.join(SAMPLES, 'train')}
                            for t in ('denoise', 'dehaze', 'lowlight')]
    train_set.update(positive_crop=True, batch_size_per_gpu=2)
    opt['train'].update(ema_decay=0, optim_g={'type': 'AdamW', 'lr': 1e-3, 'weight_decay': 1e-4},
                        contrastive_opt={'type': 'DegradationContrastiveLoss', 'loss_weight': 0.1},
                        accumulate=accumulate)  # 2: one all-reduce per step, after the second micro-batch
    path = write_yaml(os.path.join(root, 'ddp.yml'), opt)
    script = os.path.join(root, 'rank_weights.py')
    with open(script, 'w') as f:
        f.write(RANK_SCRIPT)
    out = run_python(['-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2', script,
                      '-opt', path, '--launcher', 'pytorch'], cwd=root, env={'OMP_NUM_THREADS': '1'})
    assert out.stdout.count('world 2 backend gloo') == 2, out.stdout[-2000:]
    a = torch.load(os.path.join(root, 'rank0.pth'), weights_only=True)
    b = torch.load(os.path.join(root, 'rank1.pth'), weights_only=True)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a), 'the ranks drifted apart'
    log = open(next(p for p in (tmp_path / 'experiments' / 'ddp').glob('train_*.log'))).read()
    assert 'World size (gpu number): 2' in log and 'l_cl' in log
