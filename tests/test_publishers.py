"""Every network that loads another project's files computes what that project's own file
computes: whole forwards against the figures its code printed (tests/publisher_figures.py),
and the published configuration's schema (parameter count, names and shapes)."""
from __future__ import annotations

import pytest
import torch

from perceive_ir_arch.archs import (AdaIR, AirNet, FSNet, InstructIR, MambaIR, NAFNet, NAFNetLocal, PromptIR,
                                    RetinexFormer)
from perceive_ir_arch.archs.adair_arch import FrequencyBlock
from tests.publisher_figures import FIGURES, figures, fill, image, schema

# name -> (the published configuration, the tiny one the figures were taken with)
NETWORKS = {
    'AdaIR': (lambda: AdaIR(), lambda c: AdaIR(**c)),
    'AirNet': (lambda: AirNet(), lambda c: AirNet()),
    'PromptIR': (lambda: PromptIR(), lambda c: PromptIR(**c)),
    'InstructIR': (lambda: InstructIR(width=32, enc_blk_nums=[2, 2, 4, 8], middle_blk_num=4,
                                      dec_blk_nums=[2, 2, 2, 2], txtdim=256), lambda c: InstructIR(**c)),
    'FSNet': (lambda: FSNet(num_res=16), lambda c: FSNet(**c)),
    'NAFNet': (lambda: NAFNet(width=32, enc_blk_nums=[1, 1, 1, 28], middle_blk_num=1, dec_blk_nums=[1, 1, 1, 1]),
               lambda c: NAFNet(**c)),
    'RetinexFormer': (lambda: RetinexFormer(n_feat=40, stage=1, num_blocks=[1, 2, 2]), lambda c: RetinexFormer(**c)),
    'MambaIR': (lambda: MambaIR(img_size=128, embed_dim=180, depths=[6] * 6, d_state=16, mlp_ratio=1.2, upscale=1),
                lambda c: MambaIR(**{k: v for k, v in c.items() if k != 'resi_connection'})),
}


def _close(mine: dict, theirs: dict, rel: float = 2e-6) -> None:
    for key in ('sum', 'abs_sum'):
        assert mine[key] == pytest.approx(theirs[key], rel=rel), key
    for index, value in theirs['values'].items():
        assert abs(mine['values'][index] - value) <= 1e-4 * max(1.0, abs(value)), (index, mine['values'][index], value)


@pytest.mark.parametrize('name', sorted(NETWORKS))
def test_the_published_configuration_has_the_publishers_schema(name):
    with torch.device('meta'):
        net = NETWORKS[name][0]()
    assert schema(net) == FIGURES[name]['full']


@pytest.mark.parametrize('name', sorted(NETWORKS))
def test_the_network_computes_what_its_publishers_file_computes(name):
    ref = FIGURES[name]
    net = fill(NETWORKS[name][1](ref.get('config', {})), ref.get('scale', 0.1)).eval()
    inputs = [image(*ref['input'])]
    if 'text_seed' in ref:  # InstructIR's instruction embedding
        g = torch.Generator().manual_seed(ref['text_seed'])
        inputs.append(torch.randn(1, ref['config']['txtdim'], generator=g, dtype=torch.float64).float())
    with torch.no_grad():
        out = net(*inputs)
    if 'output' in ref:  # a list output: the full-resolution image
        out = out[ref['output']]
    _close(figures(out), ref['out'])


def test_nafnet_local_computes_what_the_publishers_test_network_computes():
    ref = FIGURES['NAFNetLocal']
    net = fill(NAFNetLocal(**ref['config'], train_size=(1, 3, *ref['train_size'])), ref['scale']).eval()
    big, small = image(*ref['input']), image(16, 16)
    with torch.no_grad():
        _close(figures(net(big)), ref['out'])
        # the same weights as NAFNet: within its windows the statistics are the global ones
        plain = fill(NAFNet(**ref['config']), ref['scale']).eval()
        assert torch.allclose(net(small), plain(small), atol=1e-5)
        assert float((net(big) - plain(big)).abs().max()) > 0.5


def test_adairs_frequency_block_matches_where_its_mask_is_not_empty():
    """At 520 x 520 the spectrum mask has half-sides 1 and 2 (at the whole-network figure's
    sizes it is empty, as at every level under 256 px)."""
    ref = FIGURES['AdaIR.FrequencyBlock']
    block = fill(FrequencyBlock(ref['config']['dim'], ref['config']['num_heads'], ref['config']['bias'])).eval()
    g = torch.Generator().manual_seed(ref['features_seed'])
    y = torch.randn(1, ref['config']['dim'], *ref['input'], generator=g, dtype=torch.float64).float()
    img = image(*ref['input'], seed=ref['image_seed'])
    with torch.no_grad():
        high, low = block.bands(img)  # upstream's fft(): the image is already at the level's size
        bands = FIGURES['AdaIR.FrequencyBlock.bands']
        _close(figures(high), bands['high'])
        _close(figures(low), bands['low'])
        _close(figures(block(img, y)), ref['out'])


def test_mambairs_partitioned_test_is_the_publishers():
    from perceive_ir_arch.inference.tiling import restore_partitioned

    ref = FIGURES['MambaIR.partition']
    net = fill(torch.nn.Sequential(torch.nn.Conv2d(3, 8, 5, padding=2), torch.nn.Tanh(),
                                   torch.nn.Conv2d(8, 3, 5, padding=2)), 0.3)
    for size, theirs in ref['out'].items():  # one part; 3 x 2 parts with padding; 4 x 3 parts
        h, w = map(int, size.split('x'))
        with torch.no_grad():
            _close(figures(restore_partitioned(net, image(h, w, seed=h), torch.device('cpu'))), theirs)
