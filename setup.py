"""perceive-ir: Perceive-IR all-in-one image restoration as a BasicSR plugin."""
import os

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
PTH = 'perceive_ir_autoload.pth'


class BuildPyWithPth(build_py):
    """Also place the start-up hook's .pth file at the root of site-packages.

    The .pth line imports the tiny ``perceive_ir_autoload`` module, which makes
    ``import basicsr`` register the plugin (no edit of basicsr, no user import).
    """

    def run(self):
        super().run()
        target = self.build_lib
        if getattr(self, 'editable_mode', False):
            # PEP 660 editable wheels ship only what lands in the wheel's root, which
            # setuptools sets as install_lib; build_lib is a throw-away folder there.
            target = self.distribution.get_command_obj('install').install_lib or target
        self.copy_file(os.path.join(HERE, PTH), os.path.join(target, PTH))

    def get_outputs(self, include_bytecode=1):
        return super().get_outputs(include_bytecode) + [os.path.join(self.build_lib, PTH)]

    def get_output_mapping(self):
        mapping = super().get_output_mapping()
        mapping[os.path.join(self.build_lib, PTH)] = os.path.join(HERE, PTH)
        return mapping


def _version():
    scope = {}
    with open(os.path.join(HERE, 'perceive_ir_arch', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


# `perceive-ir export --onnx` (the dynamo exporter needs onnxscript; --check runs onnxruntime)
_EXPORT = ['onnx>=1.16', 'onnxscript>=0.2', 'onnxruntime>=1.17']

setup(
    name='perceive-ir',
    version=_version(),
    description='Perceive-IR all-in-one image restoration (noise, rain, haze, blur, low light) '
                'as a BasicSR plugin',
    long_description=open(os.path.join(HERE, 'README.md')).read() if os.path.exists(
        os.path.join(HERE, 'README.md')) else '',
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.9',
    packages=find_packages(include=['perceive_ir_arch', 'perceive_ir_arch.*']),
    py_modules=['perceive_ir_autoload'],
    cmdclass={'build_py': BuildPyWithPth},
    install_requires=[
        'torch>=2.1',
        'torchvision>=0.16',
        # one of basicsr (PyPI 1.4.2), basicsr-fixed or a BasicSR checkout installed with
        # `python setup.py develop`: all provide the `basicsr` package
        'basicsr>=1.4.2',
        'open_clip_torch>=2.23',
        'timm>=0.9.16',
        'lmdb',
        'opencv-python',
        'pyyaml',
        'numpy',
        'scipy',
        'tqdm',
    ],
    extras_require={
        'export': _EXPORT,
        # transformers: the reference DINOv2 the authors' release runs (tests compare tokens)
        'test': ['pytest>=7', 'scikit-image>=0.19', 'hypothesis>=6', 'transformers>=4.44'] + _EXPORT,
    },
    entry_points={'console_scripts': ['perceive-ir = perceive_ir_arch.inference.cli:main']},
)
