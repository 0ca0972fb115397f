"""DifficultyAdaptivePerceptualLoss against an independent computation."""
from __future__ import annotations

import pytest
import torch

from perceive_ir_arch.archs import PerceiveIR
from perceive_ir_arch.losses import DifficultyAdaptivePerceptualLoss
from tests.conftest import TINY
from tests.dpl_reference import LAYER_WEIGHTS, psnr_db, release_style_taps


def l1(a, b):
    return (a - b).abs().flatten(1).mean(1)


@pytest.fixture(scope='module')
def proxy_file(tmp_path_factory):
    from perceive_ir_arch.archs import PerceiveIR

    torch.manual_seed(3)
    net = PerceiveIR(**TINY)
    path = tmp_path_factory.mktemp('proxy') / 'proxy.pth'
    torch.save({'params': net.state_dict()}, path)
    return str(path), net.eval()


def test_vgg_taps_equal_the_release_reading():
    loss = DifficultyAdaptivePerceptualLoss()
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        ours = loss.vgg(x)
    for a, b in zip(ours, release_style_taps(x)):
        assert torch.allclose(a, b, atol=1e-5)


def test_ratio_with_masked_difficulty_weighted_proxies(proxy_file):
    path, proxy_net = proxy_file
    spec = {'network': dict(TINY, type='PerceiveIR'), 'checkpoint': path, 'tasks': ['derain']}
    loss_fn = DifficultyAdaptivePerceptualLoss(loss_weight=0.1, proxies=[spec])
    g = torch.Generator().manual_seed(0)
    gt, lq, r = (torch.rand(3, 3, 24, 24, generator=g) for _ in range(3))
    task_id = torch.tensor([1, 0, 1])  # derain, denoise, derain
    with torch.no_grad():
        p = proxy_net(lq).clamp(0, 1)
    psnr_p = psnr_db(p, gt)
    rho = torch.stack([psnr_p[0] + 1, psnr_p[1], psnr_p[2] - 1])  # beaten, -, not beaten
    got = loss_fn(r, gt, lq=lq, task_id=task_id, rho=rho)

    fr, fg, fl, fp = (release_style_taps(t) for t in (r, gt, lq, p))
    weights = LAYER_WEIGHTS
    per_sample = []
    for i in range(3):
        lam = 1.25 if psnr_p[i] <= rho[i] else 0.75
        m = 1.0 if task_id[i] == 1 else 0.0
        s = 0.0
        for l, w in enumerate(weights):
            num = l1(fr[l][i:i + 1], fg[l][i:i + 1])
            den = 2 * l1(fr[l][i:i + 1], fl[l][i:i + 1]) + m * lam * l1(fr[l][i:i + 1], fp[l][i:i + 1])
            s += w * float(num / den)
        per_sample.append(s)
    assert float(got) == pytest.approx(0.1 * sum(per_sample) / 3, rel=1e-4)


def test_the_restored_image_is_clamped_before_vgg16_unless_asked_not_to():
    g = torch.Generator().manual_seed(1)
    gt, lq = torch.rand(2, 3, 16, 16, generator=g), torch.rand(2, 3, 16, 16, generator=g)
    r = torch.rand(2, 3, 16, 16, generator=g) * 1.6 - 0.3  # outside [0, 1] in places
    clamped = DifficultyAdaptivePerceptualLoss()
    assert float(clamped(r, gt, lq=lq)) == pytest.approx(float(clamped(r.clamp(0, 1), gt, lq=lq)), rel=1e-6)
    free = DifficultyAdaptivePerceptualLoss(clamp_restored=False)
    assert abs(float(free(r, gt, lq=lq)) - float(clamped(r, gt, lq=lq))) > 1e-4


def test_gradient_reaches_only_the_restored_image(proxy_file):
    path, _ = proxy_file
    loss_fn = DifficultyAdaptivePerceptualLoss(proxies=[{'network': dict(TINY, type='PerceiveIR'),
                                                        'checkpoint': path}])
    r = torch.rand(2, 3, 16, 16, requires_grad=True)
    loss_fn(r, torch.rand(2, 3, 16, 16), lq=torch.rand(2, 3, 16, 16)).backward()
    assert r.grad.abs().sum() > 0
    assert all(p.grad is None for p in loss_fn.parameters())


def test_missing_files_and_bad_proxies_are_named(tmp_path, proxy_file):
    with pytest.raises(FileNotFoundError, match='train.dpl_opt.vgg_pretrained.*vgg16-397923af'):
        DifficultyAdaptivePerceptualLoss(vgg_pretrained=str(tmp_path / 'vgg16.pth'))
    with pytest.raises(FileNotFoundError, match=r'proxies\[0\].checkpoint'):
        DifficultyAdaptivePerceptualLoss(proxies=[{'network': {'type': 'PerceiveIR'},
                                                   'checkpoint': str(tmp_path / 'none.pth')}])
    path, _ = proxy_file
    with pytest.raises(ValueError, match=r'proxies\[0\].checkpoint: .* does not fit the network PerceiveIR: \d+ of another shape'):
        DifficultyAdaptivePerceptualLoss(proxies=[{'network': dict(TINY, type='PerceiveIR', dim=8),
                                                   'checkpoint': path}])
    with pytest.raises(ValueError, match='not tasks'):
        DifficultyAdaptivePerceptualLoss(proxies=[{'network': dict(TINY, type='PerceiveIR'),
                                                   'checkpoint': path, 'tasks': ['dedust']}])


def test_the_medium_tier_is_cross_fitted_renders_first(tmp_path):
    nets = [PerceiveIR(**TINY), PerceiveIR(**TINY)]
    with torch.no_grad():
        nets[1].embed.weight.mul_(-1)  # two different restorers
    paths = []
    for k, net in enumerate(nets):
        paths.append(str(tmp_path / f'fold{k}.pth'))
        torch.save({'params': net.state_dict()}, paths[-1])
    spec = {'network': dict(TINY, type='PerceiveIR'), 'checkpoints': paths}
    loss_fn = DifficultyAdaptivePerceptualLoss(proxies=[spec])
    proxy = loss_fn.proxies[0]
    g = torch.Generator().manual_seed(0)
    lq, medium = torch.rand(4, 3, 16, 16, generator=g), torch.rand(4, 3, 16, 16, generator=g)
    fold, has = torch.tensor([0, 1, 0, 1]), torch.tensor([False, False, True, False])
    out = proxy(lq, fold, medium, has)
    with torch.no_grad():
        # fold 0 is rendered by the restorer trained on fold 1, and the other way round
        assert torch.allclose(out[0], nets[1].eval()(lq[:1])[0].clamp(0, 1), atol=1e-6)
        assert torch.allclose(out[1], nets[0].eval()(lq[1:2])[0].clamp(0, 1), atol=1e-6)
        assert torch.equal(out[2], medium[2])  # its stage-1b render
    with pytest.raises(KeyError, match='needs the sample folds'):
        proxy(lq)
    with pytest.raises(ValueError, match='the two stage-1 restorers'):
        DifficultyAdaptivePerceptualLoss(proxies=[dict(spec, checkpoints=paths[:1])])
