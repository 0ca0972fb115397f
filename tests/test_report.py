"""The test table: our rows, their average, and the paper's numbers beside them."""
from __future__ import annotations

import pytest

from perceive_ir_arch.published import PUBLISHED_RESULTS
from perceive_ir_arch.runners.test import format_table


def rows(names):
    return [{'dataset': n, 'tasks': 'x', 'images': 2, 'input': {'psnr': 20.0 + i, 'ssim': 0.5},
             'restored': {'psnr': 30.0 + i, 'ssim': 0.9}} for i, n in enumerate(names)]


@pytest.mark.parametrize('setting,average', [('3task', ('32.63', '0.917')), ('5task', ('29.84', '0.909'))])
def test_paper_average_row_matches_the_published_average(setting, average):
    table = format_table(rows(PUBLISHED_RESULTS[setting]), ['psnr', 'ssim'], PUBLISHED_RESULTS[setting])
    last = [c.strip() for c in table.splitlines()[-1].strip('|').split('|')]
    assert last[0] == '**average**' and tuple(last[-2:]) == average  # method.md section 5
    assert last[5] == f'{sum(30.0 + i for i in range(5)) / 5:.2f}'


def test_rows_without_a_published_number_stay_blank():
    table = format_table(rows(['Rain100L', 'my_set']), ['psnr', 'ssim'], PUBLISHED_RESULTS['3task'])
    lines = table.splitlines()
    assert lines[0].endswith('paper PSNR | paper SSIM |')
    assert lines[2].endswith('| 38.29 | 0.980 |') and lines[3].endswith('|  |  |')
    assert lines[4].endswith('|  |  |')  # no paper average over a partial set
