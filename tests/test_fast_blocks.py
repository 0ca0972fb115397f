"""The fast blocks compute what the plain reference blocks compute (tests/reference_blocks.py),
in both memory layouts, forward and backward, and under torch.compile and bf16 autocast."""
from __future__ import annotations

import pytest
import torch

from perceive_ir_arch.archs import PerceiveIR
from perceive_ir_arch.archs.layers import ChannelAttention, ChannelLayerNorm
from tests.conftest import TINY
from tests.reference_blocks import RefLayerNorm, RefMDTA, reference_network

# several heads at every level, so the head split of the channels-last path is exercised
SMALL = dict(TINY, dim=8, heads=[1, 2, 4, 8])


def _randomise(net: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Non-trivial weights everywhere (norm weights, temperatures) so no term hides."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name.endswith('temperature'):
                p.copy_(0.5 + 2 * torch.rand(p.shape, generator=gen))
            elif p.dim() == 1 and 'norm' in name:
                p.add_(0.3 * torch.randn(p.shape, generator=gen))
    return net


@pytest.mark.parametrize('layout', [torch.contiguous_format, torch.channels_last])
def test_layer_norm_matches_mean_and_variance(layout):
    fast, ref = ChannelLayerNorm(6), RefLayerNorm(6)
    _randomise(fast)
    ref.load_state_dict(fast.state_dict())
    x = (torch.randn(2, 6, 5, 7) * 3 + 1).contiguous(memory_format=layout)
    torch.testing.assert_close(fast(x), ref(x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize('layout', [torch.contiguous_format, torch.channels_last])
@pytest.mark.parametrize('heads', [1, 3])
def test_attention_matches_explicit_normalisation(layout, heads):
    torch.manual_seed(0)
    fast = _randomise(ChannelAttention(12, heads))
    ref = RefMDTA(12, heads, True)
    ref.load_state_dict(fast.state_dict())
    x = torch.randn(2, 12, 9, 11).contiguous(memory_format=layout)
    out = fast(x)
    torch.testing.assert_close(out, ref(x.contiguous()), atol=1e-5, rtol=1e-5)
    # the layout is kept: no hidden conversion back and forth inside the network
    assert out.is_contiguous(memory_format=layout)


@pytest.mark.parametrize('variant, channels_last', [
    ({}, True),
    ({}, False),
    (dict(etb_variant='figure', pgm_variant='separate'), True),
    (dict(cfe_variant='airnet'), True),
    (dict(semantic_guidance=False, degradation_guidance=False), True),
])
def test_network_matches_reference_forward_and_backward(variant, channels_last):
    torch.manual_seed(0)
    net = _randomise(PerceiveIR(**SMALL, **variant)).eval()
    net.channels_last = channels_last
    ref = reference_network(net).eval()
    x = torch.rand(2, 3, 21, 27)  # not multiples of 8: padding included
    out, expected = net(x), ref(x)
    assert out.is_contiguous() and out.shape == x.shape
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)
    (out ** 2).mean().backward()
    (expected ** 2).mean().backward()
    grads = dict(ref.named_parameters())
    for name, p in net.named_parameters():
        torch.testing.assert_close(p.grad, grads[name].grad, atol=1e-5, rtol=1e-4, msg=name)


def test_torch_compile_gives_the_eager_output():
    torch.manual_seed(0)
    net = _randomise(PerceiveIR(**SMALL)).eval()
    x = torch.rand(1, 3, 32, 40)
    with torch.no_grad():
        eager = net(x)
        # fullgraph: the attention and layer norm trace without graph breaks
        compiled = torch.compile(net, fullgraph=True, dynamic=False)(x)
    torch.testing.assert_close(compiled, eager, atol=1e-5, rtol=1e-5)


def test_bf16_autocast_runs_forward_and_backward_close_to_fp32():
    torch.manual_seed(0)
    net = _randomise(PerceiveIR(**SMALL))
    x = torch.rand(1, 3, 24, 32)
    with torch.no_grad():
        full = net(x)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        half = net(x)
        loss = (half.float() - x).abs().mean()
    loss.backward()
    assert all(torch.isfinite(p.grad).all() for p in net.parameters() if p.grad is not None)
    mse = ((half.float() - full) ** 2).mean()
    assert 10 * torch.log10(1 / mse) > 35, 'bf16 output too far from fp32'
