"""Nothing lost, nothing silent: the sweep of bad inputs and faults (issue 30), one test per case.

Each case is what a hostile but realistic user did; each ends in one named message (the
option, flag or file, what was found and what was expected), a refusal, or a report, with
nothing lost or half-written.  ``MESSAGES`` is the table docs/troubleshooting.md is checked
against.
"""
from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest
import torch

from perceive_ir_arch import PerceiveIR, save_restorer
from perceive_ir_arch.inference.cli import main as cli
from perceive_ir_arch.utils.errors import user_errors
from tests.conftest import REPO, SAMPLES, TINY, random_image, run_python, write_image, write_yaml
from tests.test_pipeline import train_options

TRAIN = 'python -m perceive_ir_arch.train'


# -- the runners: an option file's mistakes, each one line before anything is built --------------
def _train(root, opt, monkeypatch, *extra) -> str:
    """Run the training runner in this process on option file ``opt`` (a dict, or the text of
    the file); return the one line it ended with."""
    from perceive_ir_arch.runners.train import main

    path = os.path.join(root, 'options.yml')
    if isinstance(opt, str):
        with open(path, 'w') as f:
            f.write(opt)
    else:
        write_yaml(path, opt)
    monkeypatch.setattr(sys, 'argv', [TRAIN, '-opt', path, *extra])
    with pytest.raises(SystemExit) as stop, user_errors(TRAIN):
        main(root)
    return str(stop.value.code)


def _changed(path: str, value):
    opt = train_options('mistake', 4, 2)
    keys = path.split('.')
    node = opt
    for key in keys[:-1]:
        node = node[key]
    if value is _DELETE:
        del node[keys[-1]]
    else:
        node[keys[-1]] = value
    return opt


_DELETE = object()
_SOURCE = 'datasets.train.sources'

OPTION_CASES = [
    # (case, option path, value, the message's fixed part)
    ('total_iter: forty', 'train.total_iter', 'forty',
     "train.total_iter: expected a whole number of iterations >= 1, got 'forty' (text)"),
    ('total_iter: -5', 'train.total_iter', -5, 'train.total_iter: expected a whole number of iterations >= 1, got -5'),
    ('batch_size_per_gpu: 0', 'datasets.train.batch_size_per_gpu', 0,
     'datasets.train.batch_size_per_gpu: expected a whole number >= 1, got 0'),
    ('batch_size_per_gpu: -4', 'datasets.train.batch_size_per_gpu', -4,
     'datasets.train.batch_size_per_gpu: expected a whole number >= 1, got -4'),
    ('batch_size_per_gpu: eight', 'datasets.train.batch_size_per_gpu', 'eight',
     "datasets.train.batch_size_per_gpu: expected a whole number >= 1, got 'eight' (text)"),
    ('lr: fast', 'train.optim_g.lr', 'fast', "train.optim_g.lr: expected a number > 0, got 'fast' (text)"),
    ('lr: 1e-3 read as text', 'train.optim_g.lr', '1e-3',
     "train.optim_g.lr: expected a number > 0, got '1e-3' (text); YAML reads 1e-3 as text: write 0.001 "
     'or !!float 1e-3'),
    ("gt_size: '32'", 'datasets.train.gt_size', '32',
     "datasets.train.gt_size: expected a whole number of pixels >= 1, got '32' (text); write it without "
     'quotes: 32'),
    ('no datasets block', 'datasets', _DELETE, "datasets is missing; BasicSR's training runner needs it"),
    ('print_freq: 0', 'logger.print_freq', 0,
     'logger.print_freq: expected a whole number of iterations >= 1 (how often), got 0'),
    ('num_worker_per_gpu: -2', 'datasets.train.num_worker_per_gpu', -2,
     'datasets.train.num_worker_per_gpu: expected a whole number >= 0 (0: load in the main process), got -2'),
    ('save_checkpoint_freq: -1', 'logger.save_checkpoint_freq', -1,
     'logger.save_checkpoint_freq: expected a whole number of iterations >= 1 (how often), got -1'),
]


@pytest.mark.parametrize('case,path,value,message', OPTION_CASES, ids=[c[0] for c in OPTION_CASES])
def test_a_wrong_option_value_stops_the_run_in_one_line_before_anything_is_built(
        tmp_path, monkeypatch, case, path, value, message):
    said = _train(str(tmp_path), _changed(path, value), monkeypatch)
    assert said == f'{TRAIN}: {tmp_path / "options.yml"}: {message}'
    assert not os.path.exists(tmp_path / 'experiments')


def test_an_empty_option_file_is_named(tmp_path, monkeypatch):
    said = _train(str(tmp_path), '', monkeypatch)
    assert said.startswith(f'{TRAIN}: {tmp_path / "options.yml"} is empty; expected BasicSR options')


def test_an_override_is_checked_like_the_file(tmp_path, monkeypatch):
    said = _train(str(tmp_path), train_options('ok', 4, 2), monkeypatch, '--force_yml', 'train:total_iter=0')
    assert said.endswith('train.total_iter: expected a whole number of iterations >= 1, got 0')


@pytest.mark.parametrize('case,change,message', [
    ('sigmas: [-15]', {'task': 'denoise', 'layout': 'synthetic', 'dataroot': os.path.join(SAMPLES, 'train'),
                       'sigmas': [-15]},
     'samples.sources[0].sigmas: expected a list of numbers > 0 (noise sigmas on the 0-255 scale), got [-15]'),
], ids=['sigmas: [-15]'])
def test_a_wrong_source_value_is_named_by_the_dataset(tmp_path, monkeypatch, case, change, message):
    opt = train_options('mistake', 4, 2)
    opt['datasets']['train']['sources'] = [change]
    assert _train(str(tmp_path), opt, monkeypatch) == f'{TRAIN}: {message}'


def test_a_missing_medium_root_is_named_even_with_only_synthetic_sources(tmp_path, monkeypatch):
    opt = train_options('mistake', 4, 2)
    opt['datasets']['train']['medium_root'] = str(tmp_path / 'renders')
    said = _train(str(tmp_path), opt, monkeypatch)
    assert said == (f"{TRAIN}: samples.medium_root: {str(tmp_path / 'renders')!r} is not a folder; render the "
                    'medium tier with render_medium (its medium_root), or set medium_root: ~')


def test_a_pickle_that_runs_code_as_a_basicsr_models_pretrain_network_is_refused(tmp_path, monkeypatch):
    import pickle

    class Evil:
        def __reduce__(self):
            return (os.system, ('echo pwned',))

    evil = tmp_path / 'evil.pth'
    evil.write_bytes(pickle.dumps({'params': Evil()}))
    opt = train_options('mistake', 4, 2)  # model_type SRModel: BasicSR's own model
    opt['path']['pretrain_network_g'] = str(evil)
    said = _train(str(tmp_path), opt, monkeypatch)
    assert said.startswith(f'{TRAIN}: path.pretrain_network_g: {evil} holds pickled Python objects that '
                           'would run code when loaded')
    assert 'weights_only' not in said


def test_the_command_ends_with_the_line_and_no_traceback(tmp_path):
    """End to end, as a user runs it: exit status 1, the message last, no traceback;
    PERCEIVE_IR_DEBUG=1 gives the traceback."""
    opt = write_yaml(str(tmp_path / 'o.yml'), _changed('train.total_iter', 'forty'))
    proc = run_python(['-m', 'perceive_ir_arch.train', '-opt', opt], cwd=str(tmp_path), check=False)
    assert proc.returncode == 1 and 'Traceback' not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        f"{TRAIN}: {opt}: train.total_iter: expected a whole number of iterations >= 1, got 'forty' (text)")
    debug = run_python(['-m', 'perceive_ir_arch.train', '-opt', opt], cwd=str(tmp_path), check=False,
                       env={'PERCEIVE_IR_DEBUG': '1'})
    assert debug.returncode == 1 and 'Traceback' in debug.stderr and 'OptionError' in debug.stderr


def test_combinations_that_do_nothing_are_warned(tmp_path):
    from perceive_ir_arch.runners.option_values import check_option_values

    opt = train_options('w', 4, 100)
    opt['vall'] = {'val_freq': 2}
    warnings = check_option_values(opt, True, 'o.yml')
    assert warnings == ["o.yml: 'vall' is not an option BasicSR reads; it has no effect (did you mean 'val'?)",
                        'o.yml: logger.save_checkpoint_freq: 100 is above train.total_iter: 4: it never comes '
                        'before the end of training']


def test_a_nonfinite_skip_run_ends_with_a_summary(tmp_path, caplog):
    from basicsr.models import build_model

    from tests.test_model import batch, model_opt

    model = build_model(model_opt(tmp_path, nonfinite='skip'))
    data = batch()
    for it in range(1, 11):
        model.feed_data(dict(data, gt=data['gt'] * (float('nan') if it > 1 else 1.0)))
        model.optimize_parameters(it)
    with caplog.at_level(logging.WARNING, logger='basicsr'):
        model.save(-1, -1)
    assert ('train.nonfinite: skip skipped 9 of the 10 steps of this run (90%): the saved network learnt '
            'from 1 steps') in caplog.text


# -- nothing lost: network files, training states and auto-resume ---------------------------------
class _Fake:
    """The few attributes of a BasicSR model that its save and load functions read."""

    def __init__(self, root, net):
        self.opt = {'path': {'models': str(root), 'training_states': str(root)}, 'rank': 0}
        self.net_g = net
        self.optimizers = [torch.optim.SGD(net.parameters(), lr=0.1)]
        self.schedulers = []

    @staticmethod
    def get_bare_model(net):
        return net


def test_a_save_interrupted_inside_torch_save_keeps_the_previous_file(tmp_path, monkeypatch):
    from perceive_ir_arch.models import checkpoints

    model = _Fake(tmp_path, torch.nn.Linear(64, 64))
    checkpoints.save_network(model, model.net_g, 'net_g', -1)
    before = (tmp_path / 'net_g_latest.pth').read_bytes()
    real = torch.save

    def half_then_fail(obj, f, *a, **k):  # the writer dies half-way through the file
        import io

        whole = io.BytesIO()
        real(obj, whole, *a, **k)
        f.write(whole.getvalue()[:len(whole.getvalue()) // 2])
        raise RuntimeError('[enforce fail at inline_container.cc:672] . unexpected pos 704 vs 598')

    monkeypatch.setattr(torch, 'save', half_then_fail)
    with torch.no_grad():
        model.net_g.weight.add_(1)
    with pytest.raises(OSError, match=r'cannot write .*net_g_latest.pth: .*nothing was written under that name'):
        checkpoints.save_network(model, model.net_g, 'net_g', -1)
    assert (tmp_path / 'net_g_latest.pth').read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ['net_g_latest.pth']  # no temporary left


def test_a_full_disk_is_named_as_such(tmp_path, monkeypatch):
    import shutil

    from perceive_ir_arch.models import checkpoints

    model = _Fake(tmp_path, torch.nn.Linear(64, 64))

    def full(obj, f, *a, **k):
        f.write(b'PK' + bytes(1000))
        raise RuntimeError('PytorchStreamWriter failed writing file data/0: file write failed')

    monkeypatch.setattr(torch, 'save', full)
    monkeypatch.setattr(shutil, 'disk_usage', lambda p: shutil._ntuple_diskusage(10 ** 9, 10 ** 9, 0))
    with pytest.raises(OSError, match=r'cannot write .*60.state: no space left on device in .* \(0.0 MiB free, '
                                      r'about 0.0 MiB needed\); nothing was written under that name'):
        checkpoints.save_training_state(model, 3, 60)
    assert os.listdir(tmp_path) == []


def test_a_run_killed_while_saving_leaves_the_previous_complete_file(tmp_path):
    """SIGKILL at random moments of a 200 MB save over a complete file: whatever the moment,
    the file under the final name is the old one or the new one, complete."""
    path = tmp_path / 'net_g_latest.pth'
    torch.save({'params': {'w': torch.zeros(8)}}, path)
    script = ('import sys, torch; from perceive_ir_arch.utils.files import atomic_torch_save; '
              "print('go', flush=True); "
              "atomic_torch_save({'params': {'w': torch.ones(50 * 2 ** 20)}}, sys.argv[1])")
    for delay in (0.05, 0.2, 0.5):
        proc = subprocess.Popen([sys.executable, '-c', script, str(path)], stdout=subprocess.PIPE, cwd=REPO)
        assert proc.stdout.readline().strip() == b'go'
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        w = torch.load(path, weights_only=True)['params']['w']
        assert w.numel() in (8, 50 * 2 ** 20) and bool((w == w[0]).all())
    assert [n for n in os.listdir(tmp_path) if not n.endswith('.tmp')] == ['net_g_latest.pth']


def test_auto_resume_falls_back_past_a_damaged_network_file(tmp_path, caplog):
    from perceive_ir_arch.runners.train import load_resume_state

    states, models = tmp_path / 'training_states', tmp_path / 'models'
    states.mkdir()
    models.mkdir()
    for it in (4, 8):
        torch.save({'epoch': 0, 'iter': it, 'optimizers': [], 'schedulers': []}, states / f'{it}.state')
        torch.save({'params': {'w': torch.ones(3)}}, models / f'net_g_{it}.pth')
    full = (models / 'net_g_8.pth').read_bytes()
    (models / 'net_g_8.pth').write_bytes(full[:len(full) // 2])  # a kill inside BasicSR's save
    opt = {'auto_resume': True, 'name': 'r', 'is_train': True,
           'path': {'training_states': str(states), 'models': str(models)}}
    with caplog.at_level(logging.WARNING, logger='basicsr'):
        state = load_resume_state(opt)
    assert state['iter'] == 4 and opt['path']['resume_state'] == str(states / '4.state')
    assert f'auto_resume: skipping {states / "8.state"}: its network file is damaged' in caplog.text


# -- restore: only regular, single images; outputs never inputs; one run per folder --------------
@pytest.fixture(scope='module')
def weights(tmp_path_factory):
    folder = tmp_path_factory.mktemp('weights')
    torch.manual_seed(1)
    save_restorer(str(folder / 'a.pth'), PerceiveIR(**TINY))
    torch.manual_seed(2)
    save_restorer(str(folder / 'b.pth'), PerceiveIR(**TINY))
    return folder


def _restore(*args) -> int:
    return cli(['restore', *map(str, args), '--device', 'cpu', '--quiet'])


def _photo(path, seed=0, h=20, w=24):
    return write_image(str(path), random_image(h, w, seed))


def test_a_named_pipe_among_the_inputs_is_skipped_without_blocking(tmp_path, weights, capsys):
    _photo(tmp_path / 'in' / 'a.png')
    os.mkfifo(tmp_path / 'in' / 'pipe.png')
    signal.alarm(120)  # a hang fails the test instead of the suite
    try:
        code = _restore(tmp_path / 'in', '-o', tmp_path / 'out', '--weights', weights / 'a.pth')
    finally:
        signal.alarm(0)
    err = capsys.readouterr().err
    assert code == 1 and f"skipped {tmp_path / 'in' / 'pipe.png'}: {str(tmp_path / 'in' / 'pipe.png')!r} is a " \
                          'named pipe, not a regular file' in err
    assert os.path.isfile(tmp_path / 'out' / 'a.png')


def _frames(path, kind):
    from PIL import Image

    frames = [Image.fromarray(random_image(16, 20, i)) for i in range(3)]
    frames[0].save(path, save_all=True, append_images=frames[1:], **({'duration': 100} if kind != 'tif' else {}))


@pytest.mark.parametrize('name', ['anim.gif', 'anim.webp', 'pages.tif'])
def test_multi_frame_inputs_are_refused_per_file(tmp_path, weights, capsys, name):
    _frames(tmp_path / name, name.split('.')[1])
    code = _restore(tmp_path / name, '-o', tmp_path / 'out', '--weights', weights / 'a.pth', '--format', 'png')
    assert code == 1
    assert (f"{str(tmp_path / name)!r} holds 3 frames (an animation or a multi-page file); only single images "
            'are restored: save the frames as separate files first') in capsys.readouterr().err


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` (the pixels are never reached)."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))

    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0))
            + chunk(b'IDAT', zlib.compress(b'\x00' * 64)) + chunk(b'IEND', b''))


def test_a_huge_image_is_refused_from_its_header_before_decoding(tmp_path, weights, capsys):
    (tmp_path / 'huge.png').write_bytes(_png_header(20000, 20000))
    code = _restore(tmp_path / 'huge.png', '-o', tmp_path / 'out', '--weights', weights / 'a.pth')
    assert code == 1
    assert (f"{str(tmp_path / 'huge.png')!r} is 20000 x 20000 = 400 MP, above the 300 MP limit (--max-pixels); "
            'raise it to restore it') in capsys.readouterr().err


def test_a_long_run_is_estimated_before_it_starts(tmp_path, weights, capsys):
    _photo(tmp_path / 'big.png', h=200, w=150)
    cli(['restore', str(tmp_path / 'big.png'), '-o', str(tmp_path / 'out'), '--weights', str(weights / 'a.pth'),
         '--device', 'cpu', '--tile', '64'])
    # tiles of 64 with 32 overlap: 6 rows x 4 columns
    assert ('1 image(s), 0.03 MP in all, 24 network passes on cpu; the largest (150 x 200) takes about 1 MiB '
            'of host memory') in capsys.readouterr().err


def test_outputs_are_never_read_back_as_inputs(tmp_path, weights, capsys):
    _photo(tmp_path / 'in' / 'a.png')
    for _ in range(2):  # the same command twice, into the input folder
        assert _restore(tmp_path / 'in', '-o', tmp_path / 'in', '--suffix', '_r', '--weights', weights / 'a.pth') == 0
    assert sorted(n for n in os.listdir(tmp_path / 'in') if not n.startswith('.')) == ['a.png', 'a_r.png']
    assert 'left out 1 outputs of earlier runs' in capsys.readouterr().err
    for _ in range(2):  # -o inside the input folder
        assert _restore(tmp_path / 'in', '-o', tmp_path / 'in' / 'restored', '--weights', weights / 'a.pth') == 0
    assert sorted(os.listdir(tmp_path / 'in' / 'restored')) == ['.perceive-ir-outputs.json', 'a.png']


def test_a_folder_written_with_other_weights_or_by_a_live_run_is_refused(tmp_path, weights):
    _photo(tmp_path / 'in' / 'a.png')
    assert _restore(tmp_path / 'in', '-o', tmp_path / 'out', '--weights', weights / 'a.pth') == 0
    with pytest.raises(SystemExit, match=r"perceive-ir restore: .*out holds 1 outputs restored with other weights "
                                         r"\(a.pth sha256:[0-9a-f]{16}\); this run uses b.pth sha256:[0-9a-f]{16}: "
                                         'restore into another -o folder, or add --overwrite'):
        _restore(tmp_path / 'in', '-o', tmp_path / 'out', '--weights', weights / 'b.pth')
    assert _restore(tmp_path / 'in', '-o', tmp_path / 'out', '--weights', weights / 'b.pth', '--overwrite') == 0
    # a run that is writing there now (its lock names a live process)
    sleeper = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])
    try:
        (tmp_path / 'out' / '.perceive-ir.lock').write_text(json.dumps(
            {'pid': sleeper.pid, 'host': __import__('socket').gethostname()}))
        with pytest.raises(SystemExit, match=f'another perceive-ir restore \\(pid {sleeper.pid} on .*\\) is writing '
                                             'into .*; wait for it to end or choose another -o folder'):
            _restore(tmp_path / 'in', '-o', tmp_path / 'out', '--weights', weights / 'b.pth')
    finally:
        sleeper.kill()
        sleeper.wait()
    # its lock, left by a killed run, is taken over
    assert _restore(tmp_path / 'in', '-o', tmp_path / 'out', '--weights', weights / 'b.pth') == 0


def test_nonfinite_pixels_are_reported_not_restored(tmp_path, weights, capsys):
    img = np.random.default_rng(0).random((16, 20, 3), dtype=np.float32)
    img[3, 4, 1] = np.nan
    import cv2

    assert cv2.imwrite(str(tmp_path / 'nan.tif'), img)
    code = _restore(tmp_path / 'nan.tif', '-o', tmp_path / 'out', '--weights', weights / 'a.pth')
    assert code == 1 and (f"{str(tmp_path / 'nan.tif')!r} has 1 NaN or infinite pixel values; replace them "
                          'before restoring') in capsys.readouterr().err
    assert not os.path.exists(tmp_path / 'out' / 'nan.tif')


def test_a_constant_or_nonfinite_output_is_reported(weights):
    from perceive_ir_arch.inference import Restorer

    net = PerceiveIR(**TINY)
    with torch.no_grad():  # a network that gives nothing but grey: its output no restoration
        net.output.weight.zero_()
        net.output.bias.fill_(0.5)
    net.forward = lambda x, **k: torch.full_like(x, 0.5)
    with pytest.raises(ValueError, match=r'the network gave one flat value \(0.5\) for the whole image'):
        Restorer(net, torch.device('cpu')).restore_tensor(torch.rand(1, 3, 16, 16))
    net.forward = lambda x, **k: x * float('nan')
    with pytest.raises(ValueError, match='the network gave 768 NaN or infinite values for this image'):
        Restorer(net, torch.device('cpu')).restore_tensor(torch.rand(1, 3, 16, 16))


@pytest.mark.parametrize('half,bf16,message', [
    ('fp16', 'avx512_bf16', 'fp16 autocast needs a CUDA device'),
    ('bf16', None, 'this CPU has no native bf16 instructions (AVX512_BF16 or AMX)'),
])
def test_half_where_the_device_cannot_is_refused_with_the_reason(tmp_path, weights, monkeypatch, half, bf16, message):
    import perceive_ir_arch.utils.device as device

    monkeypatch.setattr(device, 'cpu_bf16_feature', lambda: bf16)
    _photo(tmp_path / 'a.png')
    with pytest.raises(SystemExit, match=re.escape(f'perceive-ir restore: --half {half} on cpu: {message}')):
        _restore(tmp_path / 'a.png', '-o', tmp_path / 'out', '--weights', weights / 'a.pth', '--half', half)


def _flip_a_tensor_byte(src, dst):
    """A copy of a PyTorch archive with one byte of a tensor's record flipped in place, as a
    bad download or copy leaves it (the recorded CRC-32 is the original's)."""
    import struct

    raw = bytearray(open(src, 'rb').read())
    with zipfile.ZipFile(src) as z:
        record = next(i for i in z.infolist() if '/data/' in i.filename and i.file_size > 64)
    name_len, extra_len = struct.unpack('<HH', raw[record.header_offset + 26:record.header_offset + 30])
    raw[record.header_offset + 30 + name_len + extra_len + 5] ^= 1
    open(dst, 'wb').write(bytes(raw))
    return dst, record.filename


def test_damaged_or_future_restorer_files_are_refused(tmp_path, weights):
    src = weights / 'a.pth'
    _photo(tmp_path / 'a.png')
    bad, record = _flip_a_tensor_byte(src, tmp_path / 'flipped.pth')
    with pytest.raises(SystemExit, match=re.escape(f"--weights: {bad} is damaged: its record {record!r} fails its "
                                                   'CRC-32 checksum')):
        _restore(tmp_path, '-o', tmp_path / 'out', '--weights', bad)

    data = torch.load(src, weights_only=True)
    nan = dict(data, params={k: v * float('nan') if v.is_floating_point() else v for k, v in data['params'].items()})
    torch.save(nan, tmp_path / 'nan.pth')
    with pytest.raises(SystemExit, match=r'--weights: .*nan.pth is a perceive-ir restorer file \(PerceiveIR\), but '
                                         r'\d+ of its \d+ tensors hold NaN or infinite values'):
        _restore(tmp_path, '-o', tmp_path / 'out', '--weights', tmp_path / 'nan.pth')

    torch.save(dict(data, version=99), tmp_path / 'future.pth')
    with pytest.raises(SystemExit, match=r'--weights: .*future.pth is a perceive-ir restorer file, but of format '
                                         'version 99, written by a newer perceive-ir than this one'):
        _restore(tmp_path, '-o', tmp_path / 'out', '--weights', tmp_path / 'future.pth')


def test_weights_with_a_contradicting_option_file_are_refused(tmp_path, weights):
    _photo(tmp_path / 'a.png')
    opt = write_yaml(str(tmp_path / 'o.yml'), {'network_g': dict(TINY, type='PerceiveIR', dim=16)})
    with pytest.raises(SystemExit, match=r"--weights: .*a.pth records its network, and --opt .*o.yml contradicts it "
                                         r"\(dim: 16 there, 4 in the file\); leave out --opt"):
        _restore(tmp_path / 'a.png', '-o', tmp_path / 'out', '--weights', weights / 'a.pth', '--opt', opt)


def test_a_gif_is_refused_for_what_it_is_and_written_with_format(tmp_path, weights, capsys):
    from PIL import Image

    Image.fromarray(random_image(16, 20, 0)).save(tmp_path / 'plain.gif')
    assert _restore(tmp_path / 'plain.gif', '-o', tmp_path / 'out', '--weights', weights / 'a.pth') == 1
    assert ('.gif files are read but cannot be written (no encoder); add --format png to write it as PNG'
            in capsys.readouterr().err)
    assert _restore(tmp_path / 'plain.gif', '-o', tmp_path / 'out', '--weights', weights / 'a.pth',
                    '--format', 'png') == 0
    assert os.path.isfile(tmp_path / 'out' / 'plain.png')


def test_suffix_and_output_cannot_write_outside_the_output_folder(tmp_path, weights):
    _photo(tmp_path / 'in' / 'a.png')
    with pytest.raises(SystemExit, match="--suffix '/../../../escape': a suffix is added to file names and cannot "
                                         'hold a path separator'):
        _restore(tmp_path / 'in', '-o', tmp_path / 'out', '--suffix', '/../../../escape', '--weights',
                 weights / 'a.pth')
    assert sorted(os.listdir(tmp_path)) == ['in']  # nothing written anywhere, not even a temporary


# -- the training data: each bad file and the upscaling said once per run ------------------------
def test_a_bad_training_file_is_reported_once_across_epochs_and_workers(tmp_path):
    from torch.utils.data import DataLoader

    from perceive_ir_arch.data import MixedDegradationDataset

    for i in range(3):
        _photo(tmp_path / 'clean' / f'{i}.png', i, 40, 40)
    (tmp_path / 'clean' / 'broken.png').write_bytes(b'\x89PNG\r\n\x1a\n truncated')
    log = tmp_path / 'said.log'
    handler = logging.FileHandler(log)  # workers inherit it: what they say lands here too
    logger = logging.getLogger('basicsr.perceive_ir')
    logger.addHandler(handler)
    try:
        dataset = MixedDegradationDataset({
            'name': 'set', 'phase': 'train', 'gt_size': 48,
            'sources': [{'task': 'dehaze', 'layout': 'synthetic', 'dataroot': str(tmp_path / 'clean')}]})
        for _ in range(3):  # epochs: new worker processes each time
            for _ in DataLoader(dataset, batch_size=2, num_workers=2, shuffle=False):
                pass
    finally:
        logger.removeHandler(handler)
        handler.close()
    text = log.read_text()
    assert text.count('broken.png') == 1, text
    assert text.count('set.gt_size 48 is larger than') == 1, text
    assert 'said once for the whole set' in text


# -- property tests: the readers end in a result or a named refusal, never a traceback or a hang --
hypothesis = pytest.importorskip('hypothesis')
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def _weight_file_bytes() -> bytes:
    import io

    buf = io.BytesIO()
    torch.save({'params': {'conv.weight': torch.arange(48.).reshape(4, 3, 2, 2), 'conv.bias': torch.zeros(4)}}, buf)
    return buf.getvalue()


WEIGHTS = _weight_file_bytes()


@st.composite
def damaged_weights(draw) -> bytes:
    kind = draw(st.sampled_from(['random', 'truncate', 'flip', 'zip-of-junk']))
    if kind == 'random':
        return draw(st.binary(min_size=0, max_size=512))
    if kind == 'zip-of-junk':
        import io

        buf = io.BytesIO()
        with zipfile.ZipFile(buf, 'w') as z:
            z.writestr('archive/data.pkl', draw(st.binary(max_size=64)))
        return buf.getvalue()
    data = bytearray(WEIGHTS)
    if kind == 'truncate':
        return bytes(data[:draw(st.integers(0, len(data)))])
    for _ in range(draw(st.integers(1, 6))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


@FUZZ
@given(data=damaged_weights())
def test_the_weight_reader_gives_the_weights_or_names_the_file(tmp_path, data):
    from perceive_ir_arch.pretrained import PretrainedFileError, read_trained

    path = tmp_path / 'fuzz.pth'
    path.write_bytes(data)
    try:
        weights = read_trained(str(path), '--weights')
    except PretrainedFileError as exc:
        assert str(exc).startswith(f'--weights: {path}')
        return
    # what loads is the file's content exactly (a changed byte must have been refused)
    reference = torch.load(__import__('io').BytesIO(WEIGHTS), weights_only=True)['params']
    assert set(weights.params) == set(reference)
    for key, value in reference.items():
        assert torch.equal(weights.params[key], value)


@FUZZ
@given(h=st.integers(1, 40), w=st.integers(1, 40), channels=st.sampled_from([1, 3, 4]),
       dtype=st.sampled_from(['uint8', 'uint16']), ext=st.sampled_from(['.png', '.tif']), seed=st.integers(0, 99))
def test_random_small_images_read_back_exactly(tmp_path, h, w, channels, dtype, ext, seed):
    from perceive_ir_arch.utils.image_io import read_photo, write_photo

    rng = np.random.default_rng(seed)
    img = rng.integers(0, np.iinfo(dtype).max + 1, size=(h, w) if channels == 1 else (h, w, channels), dtype=dtype)
    path = str(tmp_path / f'img{ext}')
    write_photo(path, img)
    back = read_photo(path)
    assert back.dtype == img.dtype and np.array_equal(back, img)


# -- docs/troubleshooting.md: every message listed is the code's, every case of the sweep listed --
def _doc_messages() -> list[str]:
    import re as re_

    text = open(os.path.join(REPO, 'docs', 'troubleshooting.md'), encoding='utf-8').read()
    section = text.split('## Messages', 1)[1]
    return [m for line in section.splitlines() if line.startswith('|')
            for m in re_.findall(r'`([^`]*<[^`]*|[^`]{25,})`', line.split('|')[1])]


def _source_text() -> str:
    """The plugin's code, implicitly concatenated string literals joined."""
    import re as re_

    chunks = []
    for folder, _, files in os.walk(os.path.join(REPO, 'perceive_ir_arch')):
        chunks += [open(os.path.join(folder, f), encoding='utf-8').read() for f in files if f.endswith('.py')]
    return re_.sub(r'''(['"])\s*\n\s*f?(['"])''', '', '\n'.join(chunks)).replace("\\'", "'")


def test_every_message_the_docs_list_is_one_the_code_writes():
    source = _source_text()
    messages = _doc_messages()
    assert len(messages) > 50
    for message in messages:
        for piece in re.split(r'<[^<>]*>', message):
            piece = piece.strip(' :;,.()')
            if len(piece) >= 10:
                assert piece in source, f'docs/troubleshooting.md lists {message!r}; {piece!r} is in no module'


def test_every_case_of_the_sweep_is_in_the_docs():
    text = open(os.path.join(REPO, 'docs', 'troubleshooting.md'), encoding='utf-8').read()
    for _, _, _, message in OPTION_CASES:  # the kind each wrong value was told it needed
        kind = re.search(r'expected (.*?), got', message)
        assert kind is None or f'`{kind[1]}`' in text, message
    for fragment in ('is empty; expected BasicSR options', 'holds pickled Python objects that would run code',
                     'fails its CRC-32 checksum', 'tensors hold NaN or infinite values', 'newer perceive-ir',
                     'contradicts it', 'not a regular file', 'frames (an animation or a multi-page file)',
                     'MP limit (--max-pixels)', 'NaN or infinite pixel values', 'cannot be written (no encoder)',
                     'cannot hold a path separator', 'outputs restored with other weights',
                     'another perceive-ir restore (pid', 'no native bf16', 'fp16 autocast needs a CUDA device',
                     'no space left on device', 'its network file is damaged', 'noise sigmas on the 0-255 scale',
                     'is not a folder; render the medium tier', 'crops of images under gt_size are upscaled',
                     'skipped a sample', 'train.nonfinite: skip skipped', 'one flat value',
                     'NaN or infinite values for this image', 'is above train.total_iter'):
        assert fragment in text, fragment


def test_the_publishers_details_of_messages(tmp_path, caplog):
    """perceive-ir score names --prompts (not prompt_file) and what a wrong file is; one file
    given for both folds is named as such; open_clip's "initialized randomly" warning does
    not precede a CLIP loaded from its file."""
    from perceive_ir_arch.losses.proxy import Proxy
    import tests.published_files as pf

    clip_file = pf.write_openai_torchscript(str(tmp_path / 'ViT-B-32.pt'), pf.clip_model())
    _photo(tmp_path / 'a.png')
    caplog.clear()  # writing the file built a random CLIP: only what score says counts
    with pytest.raises(SystemExit, match=f"perceive-ir score: --prompts: prompt checkpoint "
                                         f"{re.escape(repr(str(tmp_path / 'none.pth')))} does not exist"):
        cli(['score', str(tmp_path / 'a.png'), '--prompts', str(tmp_path / 'none.pth'), '--clip-model', 'clip_tiny',
             '--clip-weights', clip_file, '--device', 'cpu'])
    assert not [r for r in caplog.records if 'initialized randomly' in r.getMessage()]
    medium = str(tmp_path / 'medium.pth')
    torch.save({'params': PerceiveIR(**dict(TINY, semantic_guidance=False, degradation_guidance=False)).state_dict()},
               medium)
    with pytest.raises(SystemExit, match=r'--prompts: .*medium.pth is a BasicSR network checkpoint .*, not a stage-1 '
                                         'prompt file'):
        cli(['score', str(tmp_path / 'a.png'), '--prompts', medium, '--clip-model', 'clip_tiny',
             '--clip-weights', clip_file, '--device', 'cpu'])
    spec = {'network': dict(TINY, type='PerceiveIR', semantic_guidance=False, degradation_guidance=False),
            'checkpoints': [medium, medium]}
    with pytest.raises(ValueError, match='proxies\\[0\\].checkpoints: both folds name .*medium.pth; the medium tier '
                                         'is cross-fitted'):
        Proxy(spec, 'proxies[0]')
