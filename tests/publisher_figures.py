"""Figures printed by each publisher's own network file, to pin the networks here whole.

How they were made (2026-12-06, outside this repository, nothing of it committed): each
publisher's repository at the commit below was mirrored, its network file imported as it
is, every tensor of its state dict set by ``fill`` below (values drawn from a generator
seeded by the CRC-32 of the tensor's name, so this side computes the same weights without
the publisher's code), run in eval mode on ``image`` inputs, and ``figures`` of the output
printed.  ``full``: the parameter count, number of state-dict entries and CRC-32 of the
sorted ``name:shape`` list of the published configuration.

- AdaIR: c-yn/AdaIR ccb8b98e4961, ``net/model.py`` (einops installed beside it).
- AirNet: XLearning-SCU/2022-CVPR-AirNet bedea82f7f7a, ``net/`` (queue of batch 5); mmcv's
  ``modulated_deform_conv2d`` stood in by a float64 DCNv2 written from its definition
  (mmcv's offset order), itself equal to ``torchvision.ops.deform_conv2d`` to 3.1e-6.
- PromptIR: va1shn9v/PromptIR 106159ab8091 ``net/model.py``; InstructIR: mv-lab/InstructIR
  3c0299ff6dc3 ``models/instructir.py``; FSNet: c-yn/FSNet 139b3c4d26d8
  ``Dehazing/OTS/models``; NAFNet, NAFNetLocal: megvii-research/NAFNet 2b4af71ebe09
  ``basicsr/models/archs/NAFNet_arch.py`` (``train_size`` (1, 3, 16, 16)); Retinexformer:
  caiyuanhao1998/Retinexformer ad5c0918b94b ``basicsr/models/archs/RetinexFormer_arch.py``;
  MambaIR: csguoh/MambaIR 33d7b3460c46 ``basicsr/archs/mambair_arch.py``, mamba_ssm's
  ``selective_scan_fn`` stood in by a float64 sequential scan written from Mamba's recurrence;
  ``MambaIR.partition``: the ``test`` method of its ``basicsr/models/mambair_model.py`` (its
  partitioned evaluation) run on a small convolutional network at three sizes.
"""
from __future__ import annotations

import zlib

import torch
from torch import nn

__all__ = ['FIGURES', 'fill', 'image', 'figures', 'schema']


def fill(module: nn.Module, scale: float = 0.1) -> nn.Module:
    """Every state-dict tensor from a generator seeded by the CRC-32 of its name: normal
    values times ``scale``; batch-norm variances |v| + 0.5; integer buffers zero."""
    with torch.no_grad():
        for name, t in module.state_dict().items():
            if not t.is_floating_point():
                t.zero_()
                continue
            g = torch.Generator().manual_seed(zlib.crc32(name.encode()))
            v = torch.randn(tuple(t.shape), generator=g, dtype=torch.float64)
            t.copy_((v.abs() + 0.5 if name.endswith('running_var') else v * scale).to(t.dtype))
    return module


def image(h: int, w: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(1, 3, h, w, generator=g, dtype=torch.float64).float()


def figures(out: torch.Tensor) -> dict:
    flat = out.double().flatten()
    n = flat.numel()
    picks = [0, n // 7, n // 3, n // 2, (2 * n) // 3, n - 1]
    return {'sum': float(flat.sum()), 'abs_sum': float(flat.abs().sum()),
            'values': {str(i): float(flat[i]) for i in picks}}


def schema(net: nn.Module) -> dict:
    state = net.state_dict()
    listing = ';'.join(f'{k}:{tuple(v.shape)}' for k, v in sorted(state.items()))
    return {'params': sum(p.numel() for p in net.parameters()), 'keys': len(state),
            'crc': zlib.crc32(listing.encode())}


FIGURES = {'AdaIR': {'full': {'params': 28784824, 'keys': 587, 'crc': 2568664838},
           'config': {'dim': 16,
                      'num_blocks': [1, 1, 1, 1],
                      'num_refinement_blocks': 1,
                      'heads': [1, 2, 2, 4],
                      'decoder': True},
           'input': [64, 72],
           'out': {'sum': 2784.282200762769,
                   'abs_sum': 4605.687451050384,
                   'values': {'0': 0.8129498362541199,
                              '1974': 0.8090113401412964,
                              '4608': 0.6073310375213623,
                              '6912': 0.5522887706756592,
                              '9216': -0.13638852536678314,
                              '13823': 0.1307252049446106}}},
 'AdaIR.FrequencyBlock': {'config': {'dim': 32, 'num_heads': 2, 'bias': False},
                          'input': [520, 520],
                          'features_seed': 3,
                          'image_seed': 1,
                          'out': {'sum': -189.85994439326868,
                                  'abs_sum': 561313.8548436293,
                                  'values': {'0': -0.0016932287253439426,
                                             '1236114': -0.020350029692053795,
                                             '2884266': -0.13323082029819489,
                                             '4326400': 0.00535973533987999,
                                             '5768533': 0.16777347028255463,
                                             '8652799': -0.21092550456523895}}},
 'AdaIR.FrequencyBlock.bands': {'high': {'sum': 1022039.5636102946, 'abs_sum': 1022039.5636102946,
                                          'values': {'0': 0.1317453235387802, '1236114': 0.024800023064017296,
                                                     '2884266': 0.11337532103061676, '4326400': 0.34320178627967834,
                                                     '5768533': 0.1849294751882553, '8652799': 0.04542575404047966}},
                                 'low': {'sum': 1953037.8450027648, 'abs_sum': 1953037.8450027648,
                                         'values': {'0': 0.08442484587430954, '1236114': 0.27424052357673645,
                                                    '2884266': 0.03195103630423546, '4326400': 0.3995513319969177,
                                                    '5768533': 0.18889664113521576, '8652799': 0.13674232363700867}}},
 'AirNet': {'full': {'params': 8930313, 'keys': 584, 'crc': 394814511},
            'config': {},
            'scale': 0.03,
            'input': [24, 28],
            'out': {'sum': 74.36092137207743,
                    'abs_sum': 405.4617348337779,
                    'values': {'0': -0.009048834443092346,
                               '288': 0.02115538716316223,
                               '672': -0.07621033489704132,
                               '1008': -0.06592722982168198,
                               '1344': -0.03489035367965698,
                               '2015': 0.1971367597579956}}},
 'PromptIR': {'config': {'num_blocks': [1, 1, 1, 1], 'num_refinement_blocks': 1},
              'input': [32, 40],
              'full': {'params': 35592263, 'keys': 548, 'crc': 1977978849},
              'out': {'sum': -101857.91483518481,
                      'abs_sum': 5197911.251722306,
                      'values': {'0': 788.6102294921875,
                                 '548': -480.7359924316406,
                                 '1280': 635.6032104492188,
                                 '1920': -1459.9437255859375,
                                 '2560': 56.33440017700195,
                                 '3839': -106.40007781982422}}},
 'InstructIR': {'config': {'img_channel': 3,
                           'width': 8,
                           'middle_blk_num': 1,
                           'enc_blk_nums': [1, 1],
                           'dec_blk_nums': [1, 1],
                           'txtdim': 16},
                'input': [24, 28],
                'text_seed': 5,
                'full': {'params': 15843363, 'keys': 696, 'crc': 3555810640},
                'out': {'sum': 851.5663134697825,
                        'abs_sum': 1074.316386340186,
                        'values': {'0': 1.1277376413345337,
                                   '288': 1.229402780532837,
                                   '672': 0.30250394344329834,
                                   '1008': 0.14250868558883667,
                                   '1344': 0.3825482130050659,
                                   '2015': -0.02852816879749298}}},
 'FSNet': {'config': {'num_res': 4},
           'input': [32, 40],
           'output': 2,
           'full': {'params': 13275689, 'keys': 1012, 'crc': 4056884630},
           'out': {'sum': 1132731041.6618042,
                   'abs_sum': 12702543096.947937,
                   'values': {'0': 1018256.9375,
                              '548': -3521154.75,
                              '1280': 2258817.75,
                              '1920': 1840295.75,
                              '2560': 341427.53125,
                              '3839': 2508070.75}}},
 'NAFNet': {'config': {'img_channel': 3,
                       'width': 8,
                       'middle_blk_num': 1,
                       'enc_blk_nums': [1, 1],
                       'dec_blk_nums': [1, 1]},
            'input': [24, 28],
            'full': {'params': 17111907, 'keys': 664, 'crc': 932518074},
            'out': {'sum': 814.525639987085,
                    'abs_sum': 1006.46866000304,
                    'values': {'0': 1.0490339994430542,
                               '288': 1.1126675605773926,
                               '672': 0.28625282645225525,
                               '1008': 0.15682339668273926,
                               '1344': 0.35111838579177856,
                               '2015': -0.01312495768070221}}},
 'NAFNetLocal': {'config': {'img_channel': 3, 'width': 8, 'middle_blk_num': 1, 'enc_blk_nums': [1, 1],
                            'dec_blk_nums': [1, 1]},
                 'train_size': [16, 16],
                 'scale': 0.3,  # large enough that local and global statistics differ (by 2.0 here)
                 'input': [40, 52],
                 'out': {'sum': -21631.17730741203,
                         'abs_sum': 113369.78640826046,
                         'values': {'0': -11.171187400817871,
                                    '891': -4.37719202041626,
                                    '2080': -20.888652801513672,
                                    '3120': -14.262856483459473,
                                    '4160': 5.729165077209473,
                                    '6239': -0.4496172368526459}}},
 'RetinexFormer': {'config': {'in_channels': 3,
                              'out_channels': 3,
                              'n_feat': 8,
                              'stage': 1,
                              'num_blocks': [1, 1, 1]},
                   'input': [24, 28],
                   'full': {'params': 1605701, 'keys': 122, 'crc': 2860002973},
                   'out': {'sum': 1194.5678158635274,
                           'abs_sum': 1195.3322289669886,
                           'values': {'0': 1.0936030149459839,
                                      '288': 0.8692125082015991,
                                      '672': 0.6236997842788696,
                                      '1008': 0.6346054673194885,
                                      '1344': 0.5730175375938416,
                                      '2015': 0.09331397712230682}}},
 'MambaIR': {'config': {'img_size': 16,
                        'embed_dim': 90,
                        'depths': [1],
                        'd_state': 4,
                        'mlp_ratio': 1.2,
                        'upscale': 1,
                        'img_range': 1.0,
                        'upsampler': '',
                        'resi_connection': '1conv'},
             'input': [12, 14],
             'full': {'params': 15777507, 'keys': 922, 'crc': 720246340},
             'out': {'sum': -106.01004832983017,
                     'abs_sum': 529.4082410335541,
                     'values': {'0': 0.3692852556705475,
                                '72': 1.729888677597046,
                                '168': -0.6556684374809265,
                                '252': 0.7736790776252747,
                                '336': -0.4041576087474823,
                                '503': 0.21751195192337036}}},
 'MambaIR.partition': {'network': 'Conv2d(3, 8, 5, padding=2), Tanh, Conv2d(8, 3, 5, padding=2), fill scale 0.3',
   'inputs': 'image(h, w, seed=h)',
   'out': {'150x170': {'sum': -80508.54917395115,
                       'abs_sum': 148399.29893374443,
                       'values': {'0': -2.3388991355895996,
                                  '10928': -5.79733943939209,
                                  '25500': 0.08652317523956299,
                                  '38250': 1.43500554561615,
                                  '51000': -1.5895617008209229,
                                  '76499': 2.4367265701293945}},
           '430x260': {'sum': -347412.2860223055,
                       'abs_sum': 650214.9884858727,
                       'values': {'0': 0.5320147275924683,
                                  '47914': -3.2987022399902344,
                                  '111800': -1.7832599878311157,
                                  '167700': 0.6174765825271606,
                                  '223600': -0.5860967040061951,
                                  '335399': -1.681614637374878}},
           '605x401': {'sum': -747505.2660373002,
                       'abs_sum': 1410906.6641399413,
                       'values': {'0': -1.8004430532455444,
                                  '103973': -1.82988703250885,
                                  '242605': 0.32425516843795776,
                                  '363907': -3.0668652057647705,
                                  '485210': -1.8560271263122559,
                                  '727814': -0.10436561703681946}}}}}
