"""The release's hard negatives (issue 24): peer networks with their publishers' key
schemas, and L_dpl proxies routed by task and noise level, with fixed task inputs and
list outputs."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from perceive_ir_arch.registry import register_arch
from perceive_ir_arch.archs.nafnet_arch import NAFBlock, NAFNet
from perceive_ir_arch.pretrained import load_network_file


def _randomise(net: nn.Module, seed: int) -> nn.Module:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.1)
    return net.eval()


def _published(cls, opt: dict, seed: int, path: str, container=lambda state: {'params': state}):
    """A random ``cls(**opt)``, saved at ``path`` in its publisher's ``container``, and a
    fresh one loaded from that file through the one loader of trained networks."""
    net = _randomise(cls(**opt), seed)
    torch.save(container(net.state_dict()), path)
    return net, load_network_file(cls(**opt), path, 'proxy.checkpoint').eval()


# -- NAFNet ---------------------------------------------------------------------------------
def test_nafnet_gopro_width32_has_the_published_schema():
    with torch.device('meta'):
        net = NAFNet(width=32, enc_blk_nums=[1, 1, 1, 28], middle_blk_num=1, dec_blk_nums=[1, 1, 1, 1])
    state = net.state_dict()
    # 17.11M parameters, as the NAFNet paper gives for its width-32 GoPro model
    assert len(state) == 664 and sum(v.numel() for v in state.values()) == 17_111_907
    assert state['encoders.3.27.sca.1.weight'].shape == (256, 256, 1, 1)
    assert state['ups.0.0.weight'].shape == (1024, 512, 1, 1) and 'ups.0.0.bias' not in state
    assert state['downs.0.weight'].shape == (64, 32, 2, 2)
    assert state['middle_blks.0.beta'].shape == (1, 512, 1, 1)


def test_a_nafnet_block_computes_the_published_function():
    block = _randomise(NAFBlock(8), 0)
    x = torch.randn(2, 8, 5, 7)

    def norm(t, ln):  # over channels, eps 1e-6
        mu = t.mean(1, keepdim=True)
        var = ((t - mu) ** 2).mean(1, keepdim=True)
        return (t - mu) / torch.sqrt(var + 1e-6) * ln.weight.view(1, -1, 1, 1) + ln.bias.view(1, -1, 1, 1)

    with torch.no_grad():
        a = block.conv2(block.conv1(norm(x, block.norm1)))
        a = a[:, :8] * a[:, 8:]
        a = a * block.sca[1](a.mean(dim=(2, 3), keepdim=True))
        y = x + block.conv3(a) * block.beta
        b = block.conv4(norm(y, block.norm2))
        expected = y + block.conv5(b[:, :8] * b[:, 8:]) * block.gamma
        torch.testing.assert_close(block(x), expected)


def test_a_nafnet_file_loads_strictly_and_pads_odd_sizes_with_zeros(tmp_path):
    opt = dict(width=8, enc_blk_nums=[1, 2], middle_blk_num=1, dec_blk_nums=[1, 1])
    net, loaded = _published(NAFNet, opt, 1, str(tmp_path / 'NAFNet-GoPro-width32.pth'))  # BasicSR's container
    x = torch.rand(1, 3, 13, 22)
    with torch.no_grad():
        out = loaded(x)
        padded = F.pad(x, (0, 2, 0, 3))  # to a multiple of 4 (two levels), zeros
        assert out.shape == x.shape
        torch.testing.assert_close(out, net(padded)[..., :13, :22])


# -- proxies: routing, task inputs, list outputs --------------------------------------------
@register_arch
class TaskConditionedTestNet(nn.Module):
    """A tiny restorer with a second input and a list output, like InstructIR / FSNet."""

    def __init__(self, dim: int = 4) -> None:
        super().__init__()
        self.scale = nn.Linear(dim, 3)

    def forward(self, x: torch.Tensor, vector: torch.Tensor) -> list[torch.Tensor]:
        out = x * torch.sigmoid(self.scale(vector))[:, :, None, None]
        return [x, out, out * 0.5]


def test_the_loss_with_several_proxies_is_the_per_sample_formula(tmp_path):
    from perceive_ir_arch.tasks import TASKS
    from perceive_ir_arch.losses import DifficultyAdaptivePerceptualLoss
    from tests.dpl_reference import LAYER_WEIGHTS, psnr_db, release_style_taps

    files = {}
    for name, net in (('sigma15', _randomise(NAFNet(width=4, enc_blk_nums=[1], dec_blk_nums=[1]), 2)),
                      ('sigma25', _randomise(NAFNet(width=4, enc_blk_nums=[1], dec_blk_nums=[1]), 3)),
                      ('cond', _randomise(TaskConditionedTestNet(), 4))):
        files[name] = str(tmp_path / f'{name}.pth')
        torch.save({'params': net.state_dict()}, files[name])
    vectors = {t: torch.randn(4) for t in TASKS}
    torch.save(vectors, str(tmp_path / 'task_embeddings.pt'))
    naf = {'type': 'NAFNet', 'width': 4, 'enc_blk_nums': [1], 'dec_blk_nums': [1]}
    proxies = [{'network': naf, 'checkpoint': files['sigma15'], 'tasks': ['denoise'], 'sigmas': [15]},
               {'network': naf, 'checkpoint': files['sigma25'], 'tasks': ['denoise'], 'sigmas': [25]},
               {'network': {'type': 'TaskConditionedTestNet'}, 'checkpoint': files['cond'], 'output': 1,
                'task_inputs': str(tmp_path / 'task_embeddings.pt'), 'tasks': ['derain', 'dehaze']}]
    loss_fn = DifficultyAdaptivePerceptualLoss(proxies=proxies)
    g = torch.Generator().manual_seed(0)
    gt = torch.rand(4, 3, 32, 32, generator=g)
    lq = (gt + 0.2 * torch.randn(4, 3, 32, 32, generator=g)).clamp(0, 1)
    pred = (gt + 0.05 * torch.randn(4, 3, 32, 32, generator=g)).clamp(0, 1)
    task_id = torch.tensor([TASKS.index(t) for t in ('denoise', 'denoise', 'derain', 'deblur')])
    level = torch.tensor([15.0, 25.0, 0.0, 0.0])
    rho = torch.full((4,), 20.0)
    got = loss_fn(pred, gt, lq=lq, task_id=task_id, rho=rho, level=level)

    # by hand, sample by sample: which proxy handles it, what it outputs, its lambda
    nets = {k: p.nets[0] for k, p in zip(('sigma15', 'sigma25', 'cond'), loss_fn.proxies)}
    expected = []
    for i in range(4):
        task = TASKS[task_id[i]]
        x = lq[i:i + 1]
        negatives = []
        with torch.no_grad():
            if task == 'denoise':
                negatives.append(nets['sigma15' if level[i] == 15 else 'sigma25'](x))
            if task in ('derain', 'dehaze'):
                negatives.append(nets['cond'](x, vectors[task][None])[1])
        feats = lambda t: release_style_taps(t.float().clamp(0, 1))  # noqa: E731
        f_r, f_gt, f_lq = feats(pred[i:i + 1]), feats(gt[i:i + 1]), feats(x)
        f_neg = [feats(n) for n in negatives]
        lams = [1.25 if psnr_db(n, gt[i:i + 1]) <= rho[i] else 0.75 for n in negatives]
        total = 0.0
        for l, w in enumerate(LAYER_WEIGHTS):
            d = lambda a: (f_r[l] - a[l]).abs().mean()  # noqa: E731
            denom = 2 * d(f_lq) + sum(lam * d(f) for lam, f in zip(lams, f_neg))
            total = total + w * d(f_gt) / (denom + 1e-7)
        expected.append(total)
    torch.testing.assert_close(got, torch.stack(expected).mean(), rtol=1e-4, atol=1e-6)


def test_wrong_proxy_options_are_named(tmp_path):
    from perceive_ir_arch.losses.difficulty_adaptive_perceptual_loss import DifficultyAdaptivePerceptualLoss

    path = str(tmp_path / 'p.pth')
    torch.save({'params': NAFNet(width=4, enc_blk_nums=[1], dec_blk_nums=[1]).state_dict()}, path)
    naf = {'type': 'NAFNet', 'width': 4, 'enc_blk_nums': [1], 'dec_blk_nums': [1]}
    with pytest.raises(KeyError, match=r"unknown keys \['sigma'\].*did you mean 'sigmas'"):
        DifficultyAdaptivePerceptualLoss(proxies=[{'network': naf, 'checkpoint': path, 'sigma': [15]}])
    with pytest.raises(ValueError, match=r'proxies\[0\].sigmas: 15; a list of noise levels'):
        DifficultyAdaptivePerceptualLoss(proxies=[{'network': naf, 'checkpoint': path, 'sigmas': 15}])
    with pytest.raises(ValueError, match=r'proxies\[0\].output: .last.; the index'):
        DifficultyAdaptivePerceptualLoss(proxies=[{'network': naf, 'checkpoint': path, 'output': 'last'}])
    torch.save({'denoise': torch.zeros(4)}, str(tmp_path / 'emb.pt'))
    with pytest.raises(KeyError, match=r"task_inputs: .*emb.pt needs one tensor for each task the proxy handles "
                                       r"\(\['derain'\]\); it holds \['denoise'\]"):
        DifficultyAdaptivePerceptualLoss(proxies=[{'network': naf, 'checkpoint': path, 'tasks': ['derain'],
                                                   'task_inputs': str(tmp_path / 'emb.pt')}])


# -- PromptIR -------------------------------------------------------------------------------
TINY_PROMPTIR = dict(dim=8, num_blocks=[1, 1, 1, 1], num_refinement_blocks=1, heads=[1, 1, 2, 2],
                     prompt_dims=[4, 8, 20], prompt_sizes=[8, 4, 2])


def test_promptir_has_the_published_schema():
    from perceive_ir_arch.archs.promptir_arch import PromptIR

    with torch.device('meta'):
        state = PromptIR(decoder=True).state_dict()
    # 35.59M parameters, as the PromptIR paper gives; names of upstream's net/model.py
    assert len(state) == 548 and sum(v.numel() for v in state.values()) == 35_592_263
    assert state['prompt3.prompt_param'].shape == (1, 5, 320, 16, 16)
    assert state['prompt1.linear_layer.weight'].shape == (5, 96) and 'prompt1.linear_layer.bias' in state
    assert state['noise_level3.attn.qkv.weight'].shape == (3 * 704, 704, 1, 1)
    assert state['encoder_level1.0.norm1.body.bias'].shape == (48,)
    assert state['chnl_reduce3.weight'].shape == (256, 320, 1, 1)  # built upstream, unused
    assert state['reduce_noise_level2.weight'].shape == (192, 320, 1, 1)
    assert not any(k.endswith('.bias') and k.startswith(('output', 'patch_embed', 'up', 'down')) for k in state)


def test_a_prompt_block_weighs_its_prompts_by_the_features():
    from perceive_ir_arch.archs.promptir_arch import PromptGenBlock

    block = _randomise(PromptGenBlock(4, 3, 6, 8), 5)
    x = torch.randn(2, 8, 9, 11)
    with torch.no_grad():
        weights = torch.softmax(block.linear_layer(x.mean(dim=(2, 3))), dim=1)
        for i in range(2):
            mixed = sum(weights[i, l] * block.prompt_param[0, l] for l in range(3))[None]
            resized = F.interpolate(mixed, size=(9, 11), mode='bilinear', align_corners=False)
            torch.testing.assert_close(block(x)[i:i + 1], block.conv3x3(resized))


def test_the_lightning_checkpoint_of_promptir_loads_and_restores_any_size(tmp_path):
    from perceive_ir_arch.archs.promptir_arch import PromptIR

    net, loaded = _published(  # PyTorch Lightning's container, the module under net.
        PromptIR, TINY_PROMPTIR, 6, str(tmp_path / 'model.ckpt'),
        lambda state: {'epoch': 120, 'global_step': 1, 'pytorch-lightning_version': '2.0.0',
                       'state_dict': {f'net.{k}': v for k, v in state.items()},
                       'optimizer_states': [{}], 'lr_schedulers': [{'last_epoch': 120}]})
    x = torch.rand(1, 3, 37, 45)
    with torch.no_grad():
        out = loaded(x)
        padded = F.pad(x, (0, 3, 0, 3), mode='reflect')  # to a multiple of 8
        torch.testing.assert_close(out, net(padded)[..., :37, :45])
    with pytest.raises(ValueError, match='decoder: false leaves'):
        PromptIR(decoder=False)


# -- InstructIR -----------------------------------------------------------------------------
def test_instructir_7d_has_the_published_schema_and_its_condition_block_gates_by_the_text():
    from perceive_ir_arch.archs.instructir_arch import InstructIR, InstructionConditionBlock

    with torch.device('meta'):
        state = InstructIR(width=32, enc_blk_nums=[2, 2, 4, 8], middle_blk_num=4, dec_blk_nums=[2, 2, 2, 2],
                           txtdim=256).state_dict()
    assert len(state) == 696 and sum(v.numel() for v in state.values()) == 15_843_363
    assert state['enc_cond.3.fc.weight'].shape == (256, 256) and state['dec_cond.0.fc.weight'].shape == (256, 256)
    assert state['dec_cond.3.block.conv1.weight'].shape == (64, 32, 1, 1)
    icb = _randomise(InstructionConditionBlock(8, 6), 7)
    x, e = torch.randn(2, 8, 5, 5), torch.randn(2, 6)
    with torch.no_grad():
        gate = torch.sigmoid(e @ icb.fc.weight.t() + icb.fc.bias)[:, :, None, None]
        torch.testing.assert_close(icb(x, e), icb.block((x * icb.gamma + icb.beta) * gate) + x)


def test_an_instructir_plain_state_dict_loads_and_takes_the_task_vector(tmp_path):
    from perceive_ir_arch.archs.instructir_arch import InstructIR

    opt = dict(width=8, enc_blk_nums=[1, 1], middle_blk_num=1, dec_blk_nums=[1, 1], txtdim=6)
    net, loaded = _published(InstructIR, opt, 8, str(tmp_path / 'im_instructir-7d.pt'),
                             lambda state: state)  # published as a plain state dict
    x, e = torch.rand(2, 3, 13, 18), torch.randn(2, 6)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x, e), net(F.pad(x, (0, 2, 0, 3)), e)[..., :13, :18])
        assert not torch.allclose(loaded(x, e), loaded(x, e.flip(0)))  # the text steers it


# -- FSNet ----------------------------------------------------------------------------------
def test_fsnet_ots_has_the_published_schema():
    from perceive_ir_arch.archs.fsnet_arch import FSNet

    with torch.device('meta'):
        net = FSNet(num_res=16)
    state = net.state_dict()
    # 13.28M parameters, as the FSNet paper gives; BatchNorm statistics besides
    assert sum(p.numel() for p in net.parameters()) == 13_275_689 and len(state) == 1012
    assert state['Encoder.0.layers.down.weight'].shape == (32, 1, 2, 2)
    assert state['Decoder.2.layers.layers.15.dyna_2.conv.weight'].shape == (200, 16, 1, 1)
    assert state['Encoder.2.layers.14.localap.h'].shape == (256,)
    assert state['SCM1.main.4.weight'].shape == (128,) and 'SCM1.main.4.running_mean' not in state
    assert state['feat_extract.3.main.0.weight'].shape == (128, 64, 4, 4)  # transposed


def test_fsnet_bands_are_upstreams_box_average_and_quadrants():
    from perceive_ir_arch.archs.fsnet_arch import _QuadrantBands, box_average

    x = torch.randn(1, 2, 12, 9)
    # upstream: a cumulative-sum box average over k = size * 210 // 256, edges replicated
    k1, k2 = 12 * 210 // 256, 9 * 210 // 256
    valid = torch.stack([torch.stack([x[..., i:i + k1, j:j + k2].mean(dim=(-2, -1)) for j in range(9 - k2 + 1)], -1)
                         for i in range(12 - k1 + 1)], -2)
    expected = F.pad(valid, ((9 - valid.shape[-1]) // 2, (10 - valid.shape[-1]) // 2,
                             (12 - valid.shape[-2]) // 2, (13 - valid.shape[-2]) // 2), mode='replicate')
    torch.testing.assert_close(box_average(x), expected)
    # quadrants: the (p1 w1) (p2 w2) split of einops, one quadrant a channel group
    bands = _randomise(_QuadrantBands(2), 9)
    x8 = x[..., :8]
    q = torch.cat([x8[:, c:c + 1, a * 6:(a + 1) * 6, b * 4:(b + 1) * 4] for c in range(2) for a in range(2)
                   for b in range(2)], dim=1)
    low = box_average(q)
    out_q = (q - low) * bands.h[:, None, None] + low * bands.l[:, None, None]
    with torch.no_grad():
        got = bands(x8)
    for idx, (c, a, b) in enumerate((c, a, b) for c in range(2) for a in range(2) for b in range(2)):
        torch.testing.assert_close(got[:, c, a * 6:(a + 1) * 6, b * 4:(b + 1) * 4], out_q[:, idx])


def test_an_fsnet_model_file_loads_and_its_last_output_is_full_size(tmp_path):
    from perceive_ir_arch.archs.fsnet_arch import FSNet

    net, loaded = _published(FSNet, dict(num_res=4, base_channel=16), 10, str(tmp_path / 'ots.pkl'),
                             lambda state: {'model': state})  # upstream's container
    x = torch.rand(1, 3, 37, 45)
    with torch.no_grad():
        outs = loaded(x)
        assert [o.shape[-2:] for o in outs] == [(10, 12), (19, 23), (37, 45)]
        torch.testing.assert_close(outs[2], net(F.pad(x, (0, 3, 0, 3), mode='reflect'))[2][..., :37, :45])


# -- Retinexformer --------------------------------------------------------------------------
def test_retinexformer_lol_v1_has_the_published_schema():
    from perceive_ir_arch.archs.retinexformer_arch import RetinexFormer

    with torch.device('meta'):
        state = RetinexFormer(n_feat=40, stage=1, num_blocks=[1, 2, 2]).state_dict()
    # 1.61M parameters, as the Retinexformer paper gives
    assert len(state) == 122 and sum(v.numel() for v in state.values()) == 1_605_701
    assert state['body.0.estimator.depth_conv.weight'].shape == (40, 10, 5, 5)  # groups of the 4 inputs
    assert state['body.0.denoiser.bottleneck.blocks.1.0.rescale'].shape == (4, 1, 1)
    assert state['body.0.denoiser.decoder_layers.0.0.bias'].shape == (80,)  # the transposed conv has a bias
    assert state['body.0.denoiser.encoder_layers.1.0.blocks.0.1.fn.net.2.weight'].shape == (320, 1, 3, 3)


def test_retinexformer_attention_is_guided_by_the_illumination():
    from perceive_ir_arch.archs.retinexformer_arch import _IlluminationGuidedAttention

    attn = _randomise(_IlluminationGuidedAttention(8, 4, 2), 11)
    x, light = torch.randn(2, 3, 5, 8), torch.randn(2, 3, 5, 8)
    with torch.no_grad():
        tokens = x.reshape(2, 15, 8)
        q, k, v_in = tokens @ attn.to_q.weight.t(), tokens @ attn.to_k.weight.t(), tokens @ attn.to_v.weight.t()
        v = v_in * light.reshape(2, 15, 8)
        outs = []
        for head in range(2):
            sl = slice(4 * head, 4 * head + 4)
            qh, kh = F.normalize(q[..., sl].transpose(1, 2), dim=-1), F.normalize(k[..., sl].transpose(1, 2), dim=-1)
            a = torch.softmax(kh @ qh.transpose(1, 2) * attn.rescale[head], dim=-1)  # 4 x 4: K^T Q
            outs.append((a @ v[..., sl].transpose(1, 2)).transpose(1, 2))
        out = attn.proj(torch.cat(outs, dim=-1)).view(2, 3, 5, 8)
        pos = attn.pos_emb(v_in.reshape(2, 3, 5, 8).permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
        torch.testing.assert_close(attn(x, light), out + pos)


def test_a_retinexformer_file_loads_and_pads_to_four(tmp_path):
    from perceive_ir_arch.archs.retinexformer_arch import RetinexFormer

    opt = dict(n_feat=8, stage=1, num_blocks=[1, 1, 1])
    net, loaded = _published(RetinexFormer, opt, 12, str(tmp_path / 'LOL_v1.pth'))
    x = torch.rand(1, 3, 21, 30)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), net(F.pad(x, (0, 2, 0, 3), mode='reflect'))[..., :21, :30])


# -- MambaIR and the selective scan ---------------------------------------------------------
from perceive_ir_arch.archs.selective_scan import selective_scan_reference  # noqa: E402


@pytest.mark.parametrize('length,chunk', [(53, None), (53, 8), (16, 16), (100, 7), (1, None)])
def test_the_chunked_selective_scan_equals_the_sequential_recurrence(length, chunk):
    from perceive_ir_arch.archs.selective_scan import selective_scan

    g = torch.Generator().manual_seed(length)
    u, delta = torch.randn(2, 12, length, generator=g), torch.randn(2, 12, length, generator=g)
    A = -torch.rand(12, 5, generator=g) * 3  # noqa: N806
    B, C = torch.randn(2, 4, 5, length, generator=g), torch.randn(2, 4, 5, length, generator=g)  # noqa: N806
    D, bias = torch.randn(12, generator=g), torch.randn(12, generator=g)  # noqa: N806
    expected = selective_scan_reference(u, delta, A, B, C, D, bias)
    got = selective_scan(u, delta, A, B, C, D, bias, delta_softplus=True, chunk=chunk)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    # with gradients asked for, the same numbers (out-of-place path)
    u.requires_grad_(True)
    torch.testing.assert_close(selective_scan(u, delta, A, B, C, D, bias, True, chunk), expected,
                               rtol=1e-5, atol=1e-5)


def test_ss2d_scans_four_directions_and_sums_them_in_row_order():
    from perceive_ir_arch.archs.mambair_arch import SS2D

    ss = _randomise(SS2D(8, d_state=3, expand=1.5), 13)
    x = torch.randn(1, 12, 3, 4)  # B x D x H x W after the depthwise convolution
    with torch.no_grad():
        got = ss._scan(x)
        total = torch.zeros(1, 12, 3, 4)
        A = -torch.exp(ss.A_logs).view(4, 12, 3)  # noqa: N806
        for k in range(4):
            seq = x.flatten(2) if k % 2 == 0 else x.transpose(2, 3).flatten(2)  # rows, columns
            seq = seq.flip(-1) if k >= 2 else seq
            proj = ss.x_proj_weight[k] @ seq[0]  # (rank + 2N) x L
            dt, bk, ck = proj.split([ss.dt_rank, 3, 3])
            y = selective_scan_reference(seq, (ss.dt_projs_weight[k] @ dt)[None], A[k], bk[None, None], ck[None, None],
                                 ss.Ds.view(4, 12)[k], ss.dt_projs_bias[k])
            y = y.flip(-1) if k >= 2 else y
            total += y.view(1, 12, 3, 4) if k % 2 == 0 else y.view(1, 12, 4, 3).transpose(2, 3)
    torch.testing.assert_close(got, total.flatten(2), rtol=1e-4, atol=1e-5)


def test_mambair_colour_denoisers_have_the_published_schema_and_load(tmp_path):
    from perceive_ir_arch.archs.mambair_arch import MambaIR

    with torch.device('meta'):
        state = MambaIR(upscale=1, embed_dim=180, depths=[6] * 6, d_state=16, mlp_ratio=1.2,
                        img_range=1.0).state_dict()
    assert len(state) == 922 and sum(v.numel() for v in state.values()) == 15_777_507
    ss = 'layers.5.residual_group.blocks.5.self_attention.'
    assert state[ss + 'x_proj_weight'].shape == (4, 12 + 32, 216)  # dt rank 12, 2 x d_state 16
    assert state[ss + 'A_logs'].shape == (864, 16) and state[ss + 'Ds'].shape == (864,)
    assert state['patch_embed.norm.weight'].shape == (180,) and 'mean' not in state
    opt = dict(embed_dim=30, depths=[1, 1], d_state=4, mlp_ratio=1.2)
    net, loaded = _published(MambaIR, opt, 14, str(tmp_path / 'ColorDN_MambaIR_level25.pth'))
    x = torch.rand(1, 3, 11, 14)
    with torch.no_grad():
        out = loaded(x)
    torch.testing.assert_close(out, net(x))  # the function itself: tests/test_publishers.py
