"""The pretrained parts the method uses, where each is published and under which names.

One entry per part: what it is, the addresses its publishers serve it from, and the file
names those downloads have, so that a copy is recognised wherever timm, open_clip,
torchvision or OpenAI's ``clip`` already put it (see ``locate``).  Nothing here downloads.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ['PretrainedPart', 'PRETRAINED_PARTS', 'IMAGENET', 'OPENAI_CLIP', 'AUTHORS', 'file_names', 'pretrained_part']

# the input normalisation each part was trained with: (mean, std) per RGB channel
IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
# where the authors publish their trained files: a Baidu Netdisk share (extraction code
# k4uc) listed in their repository's src/weight/README.md and manifest.json
AUTHORS = ('https://pan.baidu.com/s/1r04w7uSwXZ6V8bE1X9BbMQ?pwd=k4uc',
           'https://github.com/House-yuyu/Perceive-IR (src/weight/README.md)')
OPENAI_CLIP = ((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711))


@dataclass(frozen=True)
class PretrainedPart:
    name: str                          # the key in options and in the weights folder
    title: str                         # what the user is told the file should be
    urls: tuple[str, ...]              # published downloads (first = preferred)
    names: tuple[str, ...]             # file names looked for in $PERCEIVE_IR_WEIGHTS (a * picks the
                                       # newest iteration: medium_*.pth)
    hf_hub: tuple[str, tuple[str, ...]] | None = None  # (repo id, files) in the HF hub cache
    hf_hub_also: tuple[tuple[str, tuple[str, ...]], ...] = ()  # other repos publishing it
    torch_hub: tuple[str, ...] = ()    # files in torch hub's checkpoints folder
    clip_cache: tuple[str, ...] = ()   # files in ~/.cache/clip (OpenAI's clip, open_clip)
    quick_gelu: bool = False           # built with QuickGELU, as its weights were trained
    mean_std: tuple = IMAGENET         # its input normalisation

    def published_name(self) -> str:
        """The file name its publisher gives it (after the ``<name>.<ext>`` variants)."""
        return self.names[4] if len(self.names) > 4 else self.names[0]

    def hub_repos(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Every (repo id, files) of the part in the Hugging Face hub cache, first = preferred."""
        return ((self.hf_hub,) if self.hf_hub else ()) + self.hf_hub_also


def file_names(name: str, *published: str) -> tuple[str, ...]:
    """``<name>.safetensors|.pth|.pt|.bin`` and the published file names."""
    return tuple(f'{name}{ext}' for ext in ('.safetensors', '.pth', '.pt', '.bin')) + published


PRETRAINED_PARTS: dict[str, PretrainedPart] = {p.name: p for p in (
    PretrainedPart(
        'dinov2_vitb14', 'DINOv2 ViT-B/14 (embed 768, 12 blocks)',
        ('https://huggingface.co/timm/vit_base_patch14_dinov2.lvd142m',
         'https://dl.fbaipublicfiles.com/dinov2/dinov2_vitb14/dinov2_vitb14_pretrain.pth'),
        file_names('dinov2_vitb14', 'vit_base_patch14_dinov2.lvd142m.safetensors', 'dinov2_vitb14_pretrain.pth',
                   # the transformers folder of the authors' share (weight/dinov2-base/)
                   'dinov2-base/model.safetensors', 'dinov2-base/pytorch_model.bin'),
        hf_hub=('timm/vit_base_patch14_dinov2.lvd142m', ('model.safetensors', 'pytorch_model.bin')),
        # transformers' layout, which the authors' release reads (weight/dinov2-base/)
        hf_hub_also=(('facebook/dinov2-base', ('model.safetensors', 'pytorch_model.bin')),),
        torch_hub=('dinov2_vitb14_pretrain.pth',)),
    PretrainedPart(
        'dinov2_vits14', 'DINOv2 ViT-S/14 (embed 384, 12 blocks)',
        ('https://huggingface.co/timm/vit_small_patch14_dinov2.lvd142m',
         'https://dl.fbaipublicfiles.com/dinov2/dinov2_vits14/dinov2_vits14_pretrain.pth'),
        file_names('dinov2_vits14', 'vit_small_patch14_dinov2.lvd142m.safetensors', 'dinov2_vits14_pretrain.pth'),
        hf_hub=('timm/vit_small_patch14_dinov2.lvd142m', ('model.safetensors', 'pytorch_model.bin')),
        hf_hub_also=(('facebook/dinov2-small', ('model.safetensors', 'pytorch_model.bin')),),
        torch_hub=('dinov2_vits14_pretrain.pth',)),
    PretrainedPart(
        'clip_ViT-B-32', "OpenAI's CLIP ViT-B/32 (vision width 768, patch 32, image 224)",
        ('https://openaipublic.azureedge.net/clip/models/'
         '40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af/ViT-B-32.pt',
         'https://huggingface.co/timm/vit_base_patch32_clip_224.openai'),
        file_names('clip_ViT-B-32', 'ViT-B-32.pt', 'clip/ViT-B-32.pt'),
        hf_hub=('timm/vit_base_patch32_clip_224.openai',
                ('open_clip_model.safetensors', 'open_clip_pytorch_model.bin')),
        clip_cache=('ViT-B-32.pt',), quick_gelu=True, mean_std=OPENAI_CLIP),
    PretrainedPart(
        'vgg16', "torchvision's VGG16 (ImageNet, IMAGENET1K_V1)",
        ('https://download.pytorch.org/models/vgg16-397923af.pth',),
        file_names('vgg16', 'vgg16-397923af.pth'),
        torch_hub=('vgg16-397923af.pth',)),
    # the authors' trained files (House-yuyu/Perceive-IR, src/weight/README.md and manifest.json)
    PretrainedPart(
        'perceive_ir_3task', "the authors' Perceive-IR 3-task checkpoint (weight/AIO-3D.pth)",
        AUTHORS, file_names('perceive_ir_3task', 'AIO-3D.pth', 'perceiveIR_3task.pth')),
    PretrainedPart(
        'perceive_ir_5task', "the authors' Perceive-IR 5-task checkpoint (weight/AIO-5D.pth)",
        AUTHORS, file_names('perceive_ir_5task', 'AIO-5D.pth', 'perceiveIR_5task.pth')),
    PretrainedPart(
        'perceive_ir_medium_fold0', "the authors' stage-1 medium restorer trained on fold 0 "
        '(weight/stage1/holdout_1/medium_020000.pth)',
        AUTHORS, file_names('perceive_ir_medium_fold0', 'stage1/holdout_1/medium_*.pth', 'holdout_1/medium_*.pth')),
    PretrainedPart(
        'perceive_ir_medium_fold1', "the authors' stage-1 medium restorer trained on fold 1 "
        '(weight/stage1/holdout_0/medium_020000.pth)',
        AUTHORS, file_names('perceive_ir_medium_fold1', 'stage1/holdout_0/medium_*.pth', 'holdout_0/medium_*.pth')),
    # the peers the release uses as L_dpl's hard negatives (copies also in the authors'
    # share, weight/proxies/...)
    PretrainedPart(
        'promptir_allinone', "PromptIR's all-in-one checkpoint (model.ckpt, PyTorch Lightning)",
        ('https://github.com/va1shn9v/PromptIR/releases/download/v1.0/model.ckpt',) + AUTHORS,
        file_names('promptir_allinone', 'model.ckpt', 'promptir/model.ckpt')),
    PretrainedPart(
        'instructir_7d', "InstructIR's 7-degradation image model (im_instructir-7d.pt)",
        ('https://huggingface.co/marcosv/InstructIR',) + AUTHORS,
        file_names('instructir_7d', 'im_instructir-7d.pt', 'instructir/im_instructir-7d.pt'),
        hf_hub=('marcosv/InstructIR', ('im_instructir-7d.pt',))),
    PretrainedPart(
        'instructir_task_embeddings', "the release's InstructIR vectors of the 3 tasks (task_embeddings.pt)",
        AUTHORS, file_names('instructir_task_embeddings', 'task_embeddings.pt', 'instructir/task_embeddings.pt')),
    PretrainedPart(
        'instructir_task_embeddings_five', "the release's InstructIR vectors of the 5 tasks (task_embeddings_five.pt)",
        AUTHORS, file_names('instructir_task_embeddings_five', 'task_embeddings_five.pt',
                            'instructir/task_embeddings_five.pt')),
    PretrainedPart(
        'fsnet_ots', "FSNet's dehazing model trained on RESIDE OTS ({'model': ...})",
        ('https://github.com/c-yn/FSNet (README: Dehazing, OTS)',) + AUTHORS,
        file_names('fsnet_ots', 'ots.pkl', 'fsnet/ots.pkl')),
    *(PretrainedPart(
        f'mambair_denoise{s}', f"MambaIR's colour denoiser for sigma {s} (ColorDN_MambaIR_level{s}.pth)",
        ('https://github.com/csguoh/MambaIR (README: colour image denoising models)',) + AUTHORS,
        file_names(f'mambair_denoise{s}', f'ColorDN_MambaIR_level{s}.pth', f'mambair/denoise{s}.pth'))
      for s in (15, 25, 50)),
    PretrainedPart(
        'nafnet_gopro_width32', "NAFNet's GoPro deblurring model, width 32 (NAFNet-GoPro-width32.pth)",
        ('https://github.com/megvii-research/NAFNet (README: GoPro, NAFNet-width32)',) + AUTHORS,
        file_names('nafnet_gopro_width32', 'NAFNet-GoPro-width32.pth', 'nafnet/NAFNet-GoPro-width32.pth')),
    PretrainedPart(
        'retinexformer_lol_v1', "Retinexformer's LOL-v1 model (LOL_v1.pth)",
        ('https://github.com/caiyuanhao1998/Retinexformer (README: pretrained models)',) + AUTHORS,
        file_names('retinexformer_lol_v1', 'LOL_v1.pth', 'retinexformer/LOL_v1.pth')),
    *(PretrainedPart(
        f'adair_{n}task', f"AdaIR's {n}-task all-in-one checkpoint (adair{n}d.ckpt, PyTorch Lightning)",
        ('https://drive.google.com/drive/folders/1x2LN4kWkO3S65jJlH-1INUFiYt8KFzPH',
         'https://github.com/c-yn/AdaIR (README: Testing)'),
        file_names(f'adair_{n}task', f'adair{n}d.ckpt', f'adair/adair{n}d.ckpt'))
      for n in (3, 5)),
    PretrainedPart(
        'airnet_3task', "AirNet's 3-task all-in-one model (All.pth, a plain state dict)",
        ('https://drive.google.com/drive/folders/1DS_iJsP5Epzz78fZRz8lEINcnhBF6Uws',
         'https://pan.baidu.com/s/1usrpGA8FIyj1ogsZQE_Emg (password cr7d)'),
        file_names('airnet_3task', 'All.pth', 'airnet/All.pth')),
    PretrainedPart(
        'perceive_ir_prompts', "the authors' stage-1 quality prompts (weight/stage1/quality_prompts_100000.pth)",
        AUTHORS, file_names('perceive_ir_prompts', 'stage1/quality_prompts_*.pth', 'quality_prompts_*.pth')),
)}


def pretrained_part(name: str) -> PretrainedPart | None:
    """The table entry for a part, None for architectures without published weights."""
    return PRETRAINED_PARTS.get(name)
