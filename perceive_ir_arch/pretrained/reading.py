"""Reading weight files of every published container, safely, with one message per fault.

Containers: safetensors; PyTorch zip archives and legacy pickles (``torch.load`` with
``weights_only=True``); TorchScript archives (OpenAI's CLIP ``.pt``), which ``torch.load``
refuses.  A TorchScript archive is read by ``_TorchScriptReader``: its ``data.pkl`` is
unpickled with a closed list of globals (inert placeholders for the scripted module
classes, tensor storages, ``OrderedDict``), the tensors come from the archive's ``data/``
records, and the parameter and buffer names from the ``__parameters__`` / ``__buffers__``
lines of its ``code/`` files, read as text.  No TorchScript or Python code is run; any other
global makes the file a pickle that would run code, and it is refused.
"""
from __future__ import annotations

import collections
import io
import os
import pickle
import re
import struct
import zipfile
from typing import Any

import torch

from ..utils.errors import UserError

__all__ = ['PretrainedFileError', 'read_checkpoint', 'read_state_dict', 'is_torchscript']


class PretrainedFileError(UserError, ValueError):
    """A weight file that exists but cannot serve: the message names option, path and why."""


_DTYPES = {'FloatStorage': torch.float32, 'HalfStorage': torch.float16, 'DoubleStorage': torch.float64,
           'BFloat16Storage': torch.bfloat16, 'LongStorage': torch.int64, 'IntStorage': torch.int32,
           'ShortStorage': torch.int16, 'CharStorage': torch.int8, 'ByteStorage': torch.uint8,
           'BoolStorage': torch.bool}


class _ScriptModule:
    """Placeholder for a scripted class: unpickling only fills its ``__dict__``."""
    qualname = ''


def _rebuild_tensor(storage: torch.Tensor, offset: int, size, stride, *unused) -> torch.Tensor:
    return storage.as_strided(tuple(size), tuple(stride), offset)


class _TorchScriptReader:
    _DECL = re.compile(r'^class (\w+)\(Module\):\n  __parameters__ = \[(.*?)\]\n  __buffers__ = \[(.*?)\]', re.M)

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        names = archive.namelist()
        pkl = next(n for n in names if n.endswith('/data.pkl') and n.count('/') == 1)
        self.root = pkl.split('/')[0]
        self.classes: dict[str, type] = {}
        self.tensors: dict[str, set[str]] = {}  # class -> its parameter and buffer names
        prefix = f'{self.root}/code/'
        for name in names:
            if name.startswith(prefix) and name.endswith('.py'):
                module = name[len(prefix):-3].replace('/', '.')
                text = archive.read(name).decode('utf-8', 'replace')
                for cls, params, bufs in self._DECL.findall(text):
                    self.tensors[f'{module}.{cls}'] = set(re.findall(r'"([^"]+)"', params + bufs))

    def _class(self, module: str, name: str) -> type:
        qualname = f'{module}.{name}'
        if qualname not in self.classes:
            self.classes[qualname] = type(name, (_ScriptModule,), {'qualname': qualname})
        return self.classes[qualname]

    def _storage(self, pid: tuple) -> torch.Tensor:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == 'storage'):
            raise pickle.UnpicklingError(f'unknown persistent id {pid!r}')
        dtype, key = pid[1], pid[2]
        raw = bytearray(self.archive.read(f'{self.root}/data/{key}'))
        return torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)

    def state_dict(self) -> dict[str, torch.Tensor]:
        reader = self

        class Unpickler(pickle.Unpickler):
            def find_class(self, module: str, name: str) -> Any:
                if module.startswith('__torch__'):
                    return reader._class(module, name)
                if module == 'torch' and name in _DTYPES:
                    return _DTYPES[name]
                if (module, name) in (('torch._utils', '_rebuild_tensor_v2'), ('torch._utils', '_rebuild_tensor')):
                    return _rebuild_tensor
                if (module, name) == ('torch._utils', '_rebuild_parameter'):
                    return lambda data, requires_grad, hooks: data
                if (module, name) == ('collections', 'OrderedDict'):
                    return collections.OrderedDict
                if module == 'torch.jit._pickle' and name == 'restore_type_tag':
                    return lambda value, type_str: value
                if module == 'torch.jit._pickle' and name.startswith('build_'):
                    return lambda value: value
                raise pickle.UnpicklingError(f'global {module}.{name} is not allowed')

            def persistent_load(self, pid: Any) -> torch.Tensor:
                return reader._storage(pid)

        top = Unpickler(io.BytesIO(self.archive.read(f'{self.root}/data.pkl'))).load()
        out: dict[str, torch.Tensor] = {}

        def walk(obj: Any, prefix: str) -> None:
            wanted = reader.tensors.get(type(obj).qualname)
            for attr, value in vars(obj).items():
                if isinstance(value, torch.Tensor) and (wanted is None or attr in wanted):
                    out[prefix + attr] = value
                elif isinstance(value, _ScriptModule):
                    walk(value, f'{prefix}{attr}.')

        if not isinstance(top, _ScriptModule):
            raise pickle.UnpicklingError(f'the archive holds a {type(top).__name__}, not a module')
        walk(top, '')
        return out


def is_torchscript(archive: zipfile.ZipFile) -> bool:
    return any('/code/__torch__/' in n or (n.count('/') == 1 and n.endswith('/constants.pkl'))
               for n in archive.namelist())


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


_SAFE_MODULES = ('torch', 'collections', 'numpy', '__torch__', '_codecs', 'builtins')


def _pickle_globals(raw: bytes) -> list[str]:
    """The globals a pickle would import, read from its opcodes without running it; those
    outside torch's own tensor machinery are what would run code."""
    import pickletools

    found, strings, stream = [], [], io.BytesIO(raw)
    try:
        while stream.tell() < len(raw):
            for op, arg, _ in pickletools.genops(stream):
                if op.name == 'GLOBAL':
                    found.append(arg.replace(' ', '.'))
                elif op.name == 'STACK_GLOBAL' and len(strings) >= 2:
                    found.append(f'{strings[-2]}.{strings[-1]}')
                elif isinstance(arg, str):
                    strings.append(arg)
    except Exception:  # noqa: BLE001  (a damaged tail: what was read so far counts)
        pass
    return [g for g in dict.fromkeys(found) if g.split('.')[0] not in _SAFE_MODULES
            or g.startswith(('builtins.eval', 'builtins.exec', 'builtins.getattr', 'builtins.__import__'))]


def _raw_pickle(path: str) -> bytes:
    """The pickle of a legacy file, or the ``data.pkl`` of a PyTorch zip archive."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            name = next((n for n in archive.namelist() if n.endswith('data.pkl')), None)
            return archive.read(name) if name else b''
    with open(path, 'rb') as f:
        return f.read(64 * 2 ** 20)  # the objects come first; storages follow


def read_checkpoint(path: str, option: str) -> Any:
    """Whatever a weight file holds, read without running code.

    Raises PretrainedFileError naming ``option`` and ``path`` for an empty, truncated or
    unknown file and for a pickle that would run code."""
    def fail(why: str) -> PretrainedFileError:
        return PretrainedFileError(f'{option}: {path} {why}')

    size = os.path.getsize(path)
    if size == 0:
        raise fail('is empty (0 bytes): a download or copy that did not finish')
    with open(path, 'rb') as f:
        head = f.read(8)
    if head[:2] == b'PK':
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError):
            raise fail('is a damaged or truncated zip archive (a PyTorch file cut short?)') from None
        with archive:  # records are checked against their CRC as they are read
            damaged = _failed_checksum(archive)
            if damaged:
                raise fail(f'is damaged: its record {damaged!r} fails its CRC-32 checksum (a download or '
                           'copy that went wrong); fetch or copy it again')
            if is_torchscript(archive):
                try:
                    return _TorchScriptReader(archive).state_dict()
                except pickle.UnpicklingError as exc:
                    raise fail(f'is a TorchScript archive whose pickle would run code '
                               f'({_first_line(exc)}); refused') from None
                except (KeyError, StopIteration, EOFError, RuntimeError, ValueError,
                        zipfile.BadZipFile) as exc:
                    raise fail(f'is a damaged TorchScript archive ({_first_line(exc)})') from None
        return _torch_load(path, fail)
    if len(head) == 8 and _looks_like_safetensors(path, head):
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(path)
        except (SafetensorError, OSError, ValueError) as exc:
            raise fail(f'is a damaged or truncated safetensors file ({_first_line(exc)})') from None
    if head[:1] == b'\x80':  # a pickle protocol mark: a legacy torch.save file
        return _torch_load(path, fail)
    raise fail('is not a weights file (not safetensors, not a PyTorch or TorchScript archive, '
               'not a pickle)')


def _failed_checksum(archive: zipfile.ZipFile) -> str | None:
    """The first record of a zip archive whose bytes fail their CRC-32 (torch.load does not
    check them: a flipped byte in a tensor loads as a wrong weight), None when all pass or
    the archive records no checksums (torch's writer can be told to skip them)."""
    records = [r for r in archive.infolist() if r.file_size]
    if records and all(r.CRC == 0 for r in records):
        return None
    try:
        return archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        return f'(unreadable: {_first_line(exc)})'


def _looks_like_safetensors(path: str, head: bytes) -> bool:
    (header_len,) = struct.unpack('<Q', head)
    if not 0 < header_len < 100_000_000:
        return False
    with open(path, 'rb') as f:
        f.seek(8)
        return f.read(1) == b'{'


def _torch_load(path: str, fail) -> Any:
    try:
        return torch.load(path, map_location='cpu', weights_only=True, mmap=False)
    except pickle.UnpicklingError as exc:
        if 'truncated' in str(exc) or 'EOF' in str(exc):
            raise fail('is truncated (the pickle ends early)') from None
        names = _pickle_globals(_raw_pickle(path))
        if names:
            raise fail(f'holds pickled Python objects that would run code when loaded '
                       f'({", ".join(names[:5])}); refused') from None
        raise fail(f'is not a readable weights file (torch.load with weights_only=True '
                   f'refused it: {str(exc).split("WeightsUnpickler error:")[-1].strip()[:200]})') from None
    except (EOFError, RuntimeError, OSError, ValueError, AttributeError, IndexError, KeyError,
            TypeError, struct.error) as exc:
        text = str(exc)
        if isinstance(exc, EOFError) or 'central directory' in text or 'truncated' in text:
            raise fail('is truncated or damaged (the archive ends early)') from None
        raise fail(f'is not a readable weights file ({_first_line(exc)})') from None


def read_state_dict(path: str, option: str) -> dict[str, torch.Tensor]:
    """A flat name -> tensor mapping from a weight file (unwrapping ``state_dict`` / ``model``
    containers as timm and open_clip do)."""
    data = read_checkpoint(path, option)
    for key in ('state_dict', 'model'):
        if isinstance(data, dict) and isinstance(data.get(key), dict):
            data = data[key]
    if isinstance(data, torch.Tensor):
        raise PretrainedFileError(f'{option}: {path} holds a single tensor of shape '
                                  f'{tuple(data.shape)}, not a state dict of named weights')
    if not isinstance(data, dict):
        raise PretrainedFileError(f'{option}: {path} holds a {type(data).__name__}, not a state '
                                  'dict of named weights')
    return data
