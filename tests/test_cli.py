"""The perceive-ir command: score."""
from __future__ import annotations

import csv
import json
import os

import numpy as np
import pytest
import torch

from perceive_ir_arch.inference.cli import main
from tests.conftest import SAMPLES, random_image, run_python, write_image


@pytest.fixture(scope='module')
def prompts(tmp_path_factory):
    from perceive_ir_arch.archs import CLIPQualityPerceiver

    path = tmp_path_factory.mktemp('prompts') / 'prompts.pth'
    torch.save({'params': CLIPQualityPerceiver('clip_tiny').state_dict()}, path)
    return str(path)


def test_score_writes_a_wellformed_table_and_skips_broken_files(tmp_path, prompts, capsys):
    write_image(str(tmp_path / 'in' / 'grey.png'), random_image(50, 70, 1)[..., 0])
    write_image(str(tmp_path / 'in' / 'deep.png'), random_image(33, 21, 2).astype(np.uint16) * 257)
    (tmp_path / 'broken.jpg').write_bytes(b'not an image')
    out_csv, out_json = tmp_path / 'q.csv', tmp_path / 'q.json'
    code = main(['score', str(tmp_path / 'in'), os.path.join(SAMPLES, 'test', 'chelsea.png'),
                 str(tmp_path / 'broken.jpg'), '--prompts', prompts, '--clip-model', 'clip_tiny',
                 '--batch-size', '2', '--csv', str(out_csv), '--json', str(out_json), '--quiet'])
    assert code == 1  # one file failed
    err = capsys.readouterr().err
    assert 'skipped' in err and 'broken.jpg' in err and '3 scored, 1 skipped' in err
    rows = list(csv.DictReader(open(out_csv)))
    assert [os.path.basename(r['path']) for r in rows] == ['deep.png', 'grey.png', 'chelsea.png']
    for r in rows:
        p = np.array([float(r['p_terrible']), float(r['p_mediocre']), float(r['p_excellent'])])
        assert abs(p.sum() - 1) < 1e-5 and (p >= 0).all()
        assert float(r['score']) == pytest.approx(p[1] + 2 * p[2], abs=1e-6)
    assert [row['path'] for row in json.load(open(out_json))] == [r['path'] for r in rows]


def test_score_matches_the_perceiver_on_the_same_image(tmp_path, prompts):
    from perceive_ir_arch.archs import CLIPQualityPerceiver

    path = write_image(str(tmp_path / 'a.png'), random_image(32, 32, 5))
    main(['score', path, '--prompts', prompts, '--clip-model', 'clip_tiny', '--json',
          str(tmp_path / 'a.json'), '--quiet'])
    row = json.load(open(tmp_path / 'a.json'))[0]
    perceiver = CLIPQualityPerceiver('clip_tiny', prompt_file=prompts).eval()
    x = torch.from_numpy(random_image(32, 32, 5).transpose(2, 0, 1) / 255.0).float()[None]
    with torch.no_grad():
        p = perceiver(x)[0]  # 32x32 is the tiny CLIP's size: no resize on either side
    assert row['p_excellent'] == pytest.approx(float(p[2]), abs=1e-5)


def test_score_refuses_to_download(prompts, empty_caches):
    with pytest.raises(SystemExit, match=r"(?s)--clip-weights: no local copy of OpenAI's CLIP ViT-B/32.*"
                                         r'never downloads.*/weights/clip_ViT-B-32.pt.*/home/.cache/clip/ViT-B-32.pt'):
        main(['score', SAMPLES, '--prompts', prompts])


def test_console_script_is_installed(tmp_path, prompts):
    out = run_python(['-m', 'perceive_ir_arch.inference.cli', 'score', os.path.join(SAMPLES, 'test'),
                      '--prompts', prompts, '--clip-model', 'clip_tiny', '--quiet'], cwd=str(tmp_path))
    assert 'chelsea.png' in out.stdout and 'p_excellent' in out.stdout
    import shutil
    import sys
    assert shutil.which('perceive-ir', path=os.path.dirname(sys.executable))


def test_the_scoring_api_runs_its_docstring_and_equals_the_command(tmp_path, prompts):
    import doctest

    import perceive_ir_arch.inference.scoring
    from perceive_ir_arch.inference.scoring import create_scorer

    result = doctest.testmod(perceive_ir_arch.inference.scoring)
    assert result.attempted >= 5 and result.failed == 0
    path = os.path.join(SAMPLES, 'test', 'chelsea.png')
    out = tmp_path / 'q.json'
    assert main(['score', path, '--prompts', prompts, '--clip-model', 'clip_tiny', '--json', str(out),
                 '--quiet', '--device', 'cpu']) == 0
    from perceive_ir_arch.utils.image_io import decode_image

    with open(path, 'rb') as f:
        row = create_scorer(prompts, clip_model='clip_tiny', device='cpu').score(decode_image(f.read(), path))
    command = json.load(open(out))[0]
    assert all(abs(command[k] - row[k]) < 1e-6 for k in row)
