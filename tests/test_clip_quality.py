"""CLIPQualityPerceiver and CLIPQualityLoss with a tiny random CLIP."""
from __future__ import annotations

import pytest
import torch

from perceive_ir_arch.archs import QUALITY_TIERS, CLIPQualityPerceiver
from perceive_ir_arch.losses import CLIPQualityLoss


@pytest.fixture(scope='module')
def perceiver():
    return CLIPQualityPerceiver('clip_tiny')


def test_only_the_prompt_context_is_trainable_and_saved(perceiver):
    assert [n for n, _ in perceiver.named_parameters()] == ['ctx']
    assert sorted(perceiver.state_dict()) == ['ctx', 'tokens']  # the context and its text
    assert perceiver.ctx.shape == (3, 16, 32)
    assert not any(p.requires_grad for p in perceiver.clip.parameters())


def test_last_context_token_starts_as_the_class_word(perceiver):
    import open_clip

    tok = open_clip.get_tokenizer('ViT-B-32')
    emb = perceiver.clip.token_embedding.weight
    for i, word in enumerate(QUALITY_TIERS):
        expected = emb[torch.tensor(tok.encode(word))].mean(0)
        assert torch.allclose(perceiver.ctx[i, -1], expected)
    others = perceiver.ctx[:, :-1]
    assert abs(float(others.std()) - 0.02) < 0.004 and abs(float(others.mean())) < 0.004


def test_prompt_features_follow_open_clip_text_encoder(perceiver):
    """With the context set to the 'X' placeholders' own embeddings, the prompt path
    must give what open_clip's encode_text gives for the tokenised template."""
    fresh = CLIPQualityPerceiver('clip_tiny')
    with torch.no_grad():
        fresh.ctx.copy_(fresh.clip.token_embedding(fresh.tokens[:, 1:17]))
        ours = fresh.text_features()
        ref = fresh.clip.encode_text(fresh.tokens, normalize=True)
    assert torch.allclose(ours, ref, atol=1e-5)


def test_probabilities_and_gradients(perceiver):
    x = torch.rand(3, 3, 45, 61, requires_grad=True)
    p = perceiver(x)
    assert p.shape == (3, 3) and torch.allclose(p.sum(1), torch.ones(3))
    p[:, 2].sum().backward()
    assert x.grad.abs().sum() > 0 and perceiver.ctx.grad is not None


def test_clip_loss_equals_hand_computation_and_reaches_only_the_image():
    loss_fn = CLIPQualityLoss(loss_weight=0.5, clip_model='clip_tiny', logit_scale=1.0)
    x = (torch.rand(2, 3, 40, 40) * 1.4 - 0.2).requires_grad_()  # outside [0, 1]: clamped
    loss = loss_fn(x)
    with torch.no_grad():
        img = loss_fn.perceiver.image_features(x.clamp(0, 1))
        p = (img @ loss_fn.perceiver.text_features().t()).softmax(-1)
    assert float(loss) == pytest.approx(0.5 * float((1 - p[:, 2]).mean()), rel=1e-5)
    loss.backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert loss_fn.perceiver.ctx.grad is None
    assert all(p.grad is None for p in loss_fn.perceiver.clip.parameters())


def test_prompt_file_round_trip_and_errors(tmp_path, perceiver):
    with torch.no_grad():
        perceiver.ctx.add_(1.0)
    path = tmp_path / 'prompts.pth'
    torch.save({'params': perceiver.state_dict()}, path)
    loaded = CLIPQualityPerceiver('clip_tiny', prompt_file=str(path))
    assert torch.equal(loaded.ctx, perceiver.ctx)
    assert path.stat().st_size < 50_000  # the context only
    with pytest.raises(FileNotFoundError, match='train.clip_quality_opt: .*missing.pth'):
        CLIPQualityLoss(clip_model='clip_tiny', prompt_file=str(tmp_path / 'missing.pth'))
    torch.save({'params': {'weight': torch.zeros(3)}}, tmp_path / 'other.pth')
    with pytest.raises(ValueError, match=r'prompt_file: .*other.pth is a BasicSR network checkpoint \(params: 1 '
                                         r'tensors, e.g. weight\), not a stage-1 prompt file'):
        CLIPQualityPerceiver('clip_tiny', prompt_file=str(tmp_path / 'other.pth'))
    torch.save({'params': {'ctx': torch.zeros(3, 8, 32)}}, tmp_path / 'short.pth')
    with pytest.raises(ValueError, match='needs'):
        CLIPQualityPerceiver('clip_tiny', prompt_file=str(tmp_path / 'short.pth'))


def test_the_prompt_text_is_the_releases_and_travels_with_the_prompts(tmp_path):
    import open_clip

    tok = open_clip.get_tokenizer('ViT-B-32')
    release = CLIPQualityPerceiver('clip_tiny')
    placeholders = tok([' '.join(['X'] * 16)])[0]
    assert all(torch.equal(t, placeholders) for t in release.tokens)  # the tier word: ctx only
    coop = CLIPQualityPerceiver('clip_tiny', class_word_in_text=True)
    assert torch.equal(coop.tokens, tok([' '.join(['X'] * 16) + f' {w}.' for w in QUALITY_TIERS]))
    path = tmp_path / 'coop.pth'
    torch.save({'params': coop.state_dict()}, path)
    assert torch.equal(CLIPQualityPerceiver('clip_tiny', prompt_file=str(path)).tokens, coop.tokens)
    torch.save({'params': {'ctx': coop.ctx.detach()}}, path)  # a file of before the choice
    assert torch.equal(CLIPQualityPerceiver('clip_tiny', prompt_file=str(path)).tokens, coop.tokens)
    loss = CLIPQualityLoss(clip_model='clip_tiny', prompt_file=str(path))
    assert torch.allclose(loss.text, coop.text_features())


def test_missing_clip_weights_name_where_to_get_them(tmp_path):
    with pytest.raises(FileNotFoundError, match='openaipublic'):
        CLIPQualityPerceiver('ViT-B-32', clip_pretrained=str(tmp_path / 'ViT-B-32.pt'))
