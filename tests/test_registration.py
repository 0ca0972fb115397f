"""Registration into BasicSR: autoload in a fresh interpreter, idempotence, lookups."""
from __future__ import annotations

import warnings

import pytest

import perceive_ir_arch
from perceive_ir_arch import registry
from tests.conftest import REPO, run_python

EXPECTED = {
    'ARCH_REGISTRY': ['PerceiveIR', 'CLIPQualityPerceiver', 'PromptIR', 'AdaIR', 'AirNet', 'InstructIR', 'FSNet',
                      'MambaIR', 'NAFNet', 'NAFNetLocal', 'RetinexFormer'],
    'DATASET_REGISTRY': ['MixedDegradationDataset', 'QualityTierDataset'],
    'LOSS_REGISTRY': ['DegradationContrastiveLoss', 'CLIPQualityLoss', 'DifficultyAdaptivePerceptualLoss'],
    'METRIC_REGISTRY': ['calculate_ssim_skimage'],
    'MODEL_REGISTRY': ['PerceiveIRModel', 'QualityPerceiverModel'],
}


def test_importing_basicsr_alone_registers_the_plugin(tmp_path):
    checks = '; '.join(f"{reg}.get('{name}')" for reg, names in EXPECTED.items() for name in names)
    code = (f'import basicsr; from basicsr.utils.registry import {", ".join(EXPECTED)}; '
            f'{checks}; print("ok")')
    out = run_python(['-c', code], cwd=str(tmp_path))  # outside the repo: the installed plugin
    assert out.stdout.strip().endswith('ok')


def test_autoload_can_be_switched_off(tmp_path):
    code = ("import basicsr; from basicsr.utils.registry import ARCH_REGISTRY; "
            "print('PerceiveIR' in ARCH_REGISTRY)")
    out = run_python(['-c', code], cwd=str(tmp_path), env={'PERCEIVE_IR_NO_AUTOLOAD': '1'})
    assert out.stdout.strip() == 'False'


def test_torchvision_module_that_basicsr_needs_is_provided():
    import torch
    from torchvision.transforms.functional_tensor import rgb_to_grayscale

    assert rgb_to_grayscale(torch.ones(1, 3, 2, 2)).shape == (1, 1, 2, 2)


def test_registering_again_is_a_no_op_and_a_clash_warns():
    from basicsr.utils.registry import ARCH_REGISTRY

    cls = ARCH_REGISTRY.get('PerceiveIR')
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert registry.register_arch(cls) is cls  # same object: silent
    impostor = type('PerceiveIR', (), {'__module__': 'someone.else'})
    with pytest.warns(UserWarning, match='already holds'):
        registry.register_arch(impostor)
    assert ARCH_REGISTRY.get('PerceiveIR') is cls


def test_lookup_suggests_close_names():
    from basicsr.utils.registry import ARCH_REGISTRY

    with pytest.raises(KeyError, match="network_g.type: 'PerceveIR'.*Did you mean 'PerceiveIR'"):
        registry.lookup(ARCH_REGISTRY, 'PerceveIR', 'network_g.type')
    assert registry.lookup(ARCH_REGISTRY, 'PerceiveIR', 'x') is perceive_ir_arch.archs.PerceiveIR


def test_autoload_imports_nothing_heavy(tmp_path):
    """`import basicsr` stays fast with the plugin installed: the plugin's modules only use
    torch (already imported by basicsr); timm, open_clip and lmdb load when first used.
    Timings: benchmarks/import_time.py."""
    code = ('import sys, basicsr; print(sorted(m for m in ("timm", "open_clip", "lmdb", '
            '"perceive_ir_arch") if m in sys.modules))')
    out = run_python(['-c', code], cwd=str(tmp_path))
    assert out.stdout.strip().splitlines()[-1] == "['perceive_ir_arch']"


def test_a_regular_wheel_install_autoloads(tmp_path):
    """`pip install .` (not editable) puts the hook's .pth at the root of site-packages."""
    import sysconfig

    run_python(['-m', 'pip', 'wheel', '-q', '--no-deps', '--no-build-isolation', '-w',
                str(tmp_path / 'wheel'), REPO], cwd=str(tmp_path))
    wheel = next((tmp_path / 'wheel').glob('perceive_ir-*.whl'))
    target = tmp_path / 'site'
    run_python(['-m', 'pip', 'install', '-q', '--no-deps', '--target', str(target), str(wheel)],
               cwd=str(tmp_path))
    assert (target / 'perceive_ir_autoload.pth').is_file()
    # -S: no site processing, so the development install's .pth files stay out; the
    # venv's packages are put on sys.path plainly and only the wheel's folder is a site dir
    code = (f'import sys, site; sys.path.append({sysconfig.get_paths()["purelib"]!r}); '
            f'site.addsitedir({str(target)!r}); import basicsr, perceive_ir_arch; '
            'from basicsr.utils.registry import ARCH_REGISTRY; ARCH_REGISTRY.get("PerceiveIR"); '
            'print(perceive_ir_arch.__file__)')
    out = run_python(['-S', '-c', code], cwd=str(tmp_path))
    assert out.stdout.strip().splitlines()[-1].startswith(str(target))


@pytest.mark.parametrize('opt,match', [
    ({'model_type': 'PerceiveIRModle'}, r"model_type: 'PerceiveIRModle' is not in the model registry. Did you mean 'PerceiveIRModel'"),
    ({'network_g': {'type': 'PerceveIR'}}, r"network_g.type: 'PerceveIR' is not in the arch registry. Did you mean 'PerceiveIR'"),
    ({'datasets': {'train': {'type': 'MixedDegradationDatset'}}},
     r"datasets.train.type: 'MixedDegradationDatset' is not in the dataset registry. Did you mean 'MixedDegradationDataset'"),
    ({'train': {'pixel_opt': {'type': 'L1Los'}}}, r"train.pixel_opt.type: 'L1Los' is not in the loss registry. Did you mean 'L1Loss'"),
    ({'val': {'metrics': {'psnr': {'type': 'calculate_psnrr'}}}},
     r"val.metrics.psnr.type: 'calculate_psnrr' is not in the metric registry. Did you mean 'calculate_psnr'"),
])
def test_a_mistyped_registered_name_anywhere_in_an_option_file_gets_the_closest(opt, match):
    with pytest.raises(KeyError, match=match):
        registry.check_types(opt)


def test_a_mistyped_network_type_stops_the_plugin_model_before_it_builds(tmp_path):
    from basicsr.models import build_model

    opt = {'model_type': 'PerceiveIRModel', 'is_train': False, 'dist': False, 'num_gpu': 0,
           'network_g': {'type': 'PerceveIR'}, 'path': {'pretrain_network_g': None}}
    with pytest.raises(KeyError, match=r"network_g.type: 'PerceveIR' is not in the arch registry. Did you mean"):
        build_model(opt)


def test_a_new_module_of_a_plugin_folder_registers_without_an_edit(tmp_path, monkeypatch):
    import sys

    from basicsr.utils.registry import LOSS_REGISTRY

    package = tmp_path / 'my_plugin_losses'
    package.mkdir()
    (package / '__init__.py').write_text('')
    (package / 'sharpness_loss.py').write_text(
        'import torch\n'
        'from perceive_ir_arch.registry import register_loss\n\n\n'
        '@register_loss\n'
        'class SharpnessTestLoss(torch.nn.Module):\n'
        '    def forward(self, pred, target):\n'
        '        return (pred - target).abs().mean()\n')
    (package / 'helpers.py').write_text('raise RuntimeError("not a *_loss.py module: never imported")\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    registry.import_modules('my_plugin_losses', str(package), '_loss')
    try:
        assert 'SharpnessTestLoss' in LOSS_REGISTRY
    finally:
        LOSS_REGISTRY._obj_map.pop('SharpnessTestLoss', None)
        sys.modules.pop('my_plugin_losses.sharpness_loss', None)


def test_registering_a_class_again_wraps_its_constructor_once():
    from basicsr.utils.registry import ARCH_REGISTRY

    def depth(init) -> int:
        n = 0
        while hasattr(init, '__wrapped__'):
            init, n = init.__wrapped__, n + 1
        return n

    cls = ARCH_REGISTRY.get('PerceiveIR')
    before = depth(cls.__init__)
    assert before == 2  # the option check around the option record around the constructor
    for _ in range(2):
        registry.register_arch(cls)
    assert depth(cls.__init__) == before
    with pytest.raises(TypeError, match="PerceiveIR: unknown option 'dimm' \\(did you mean 'dim'\\?\\)"):
        cls(dimm=8)


def _plugin_types() -> dict[str, set[str]]:
    """What the plugin itself registers, registry by registry."""
    import basicsr.utils.registry as registries

    return {name: {k for k, v in getattr(registries, name)._obj_map.items()
                   if getattr(v, '__module__', '').startswith('perceive_ir_arch')} for name in EXPECTED}


def test_the_plugin_registers_exactly_the_expected_types():
    assert _plugin_types() == {k: set(v) for k, v in EXPECTED.items()}


def test_the_readme_table_lists_every_registered_type():
    import re

    text = open(f'{REPO}/README.md', encoding='utf-8').read()
    table = text.split('Registered names (option files depend on them):', 1)[1].split('\n\n', 2)[1]
    listed = {(m[0], m[1]) for m in re.findall(r'^\| (ARCH|DATASET|METRIC|LOSS|MODEL) \| `(\w+)` \|', table, re.M)}
    registered = {(reg.split('_')[0], name) for reg, names in _plugin_types().items() for name in names}
    assert listed == registered


def test_the_readme_layout_lists_every_module():
    import os
    import re

    text = open(f'{REPO}/README.md', encoding='utf-8').read()
    layout = text.split('## Layout, and where to change what', 1)[1].split('```', 2)[1]
    for folder, _, files in os.walk(f'{REPO}/perceive_ir_arch'):
        for name in files:
            if name.endswith('.py') and name != '__init__.py':
                assert re.search(rf'\b{re.escape(name)}\b', layout), f'README layout does not list {name}'
