"""The folder ``perceive-ir restore`` writes into: one run at a time, and a record of what it wrote.

- A lock file (``.perceive-ir.lock``: pid and host) while a run writes; a second run is
  refused while the first lives; a lock left by a killed run is taken over.
- A manifest (``.perceive-ir-outputs.json``): every output written there, with the weights
  that restored it.  Outputs are never read back as inputs (a second run with ``--suffix``
  into the input folder, or ``-o`` inside an input folder), and a run with other weights is
  refused unless told to overwrite, so a folder never holds an unknown mix.
- Output paths stay inside the folder, whatever ``--suffix`` or the input names say.
"""
from __future__ import annotations

import hashlib
import json
import os
import socket
from typing import Iterable

from ..utils.errors import UserError
from ..utils.files import atomic_write_text

__all__ = ['LOCK', 'MANIFEST', 'OutputFolder', 'OutputFolderError', 'weights_identity', 'recorded_outputs',
           'output_path']

LOCK = '.perceive-ir.lock'
MANIFEST = '.perceive-ir-outputs.json'


class OutputFolderError(UserError, ValueError):
    """The output folder cannot take this run: the message says why and what to do."""


def weights_identity(path: str) -> str:
    """What the outputs were restored with: the weights file's name and content hash."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(2 ** 22), b''):
            digest.update(block)
    return f'{os.path.basename(path)} sha256:{digest.hexdigest()[:16]}'


def _read_manifest(folder: str) -> dict[str, str]:
    try:
        with open(os.path.join(folder, MANIFEST), encoding='utf-8') as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    outputs = data.get('outputs') if isinstance(data, dict) else None
    return {str(k): str(v) for k, v in outputs.items()} if isinstance(outputs, dict) else {}


def recorded_outputs(paths: Iterable[str]) -> set[str]:
    """The paths among ``paths`` that a perceive-ir run wrote (listed in the manifest of a
    folder above them), as absolute paths."""
    found, manifests = set(), {}
    for path in paths:
        full = os.path.abspath(path)
        folder = os.path.dirname(full)
        while True:
            if folder not in manifests:
                manifests[folder] = _read_manifest(folder) if os.path.isfile(os.path.join(folder, MANIFEST)) else None
            listed = manifests[folder]
            if listed is not None and os.path.relpath(full, folder) in listed:
                found.add(full)
                break
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder = parent
    return found


def output_path(root: str, rel: str, suffix: str, ext: str | None) -> str:
    """``<root>/<rel without extension><suffix><extension>``; ValueError when ``suffix``
    holds a path separator or the result would lie outside ``root``."""
    if any(sep and sep in suffix for sep in (os.sep, os.altsep)) or '\0' in suffix:
        raise OutputFolderError(f'--suffix {suffix!r}: a suffix is added to file names and cannot '
                                'hold a path separator')
    stem, own = os.path.splitext(rel)
    out = os.path.join(root, stem + suffix + (ext or own))
    inside = os.path.realpath(root)
    if os.path.commonpath([inside, os.path.realpath(out)]) != inside:
        raise OutputFolderError(f'{rel!r} would be written to {out!r}, outside the output folder {root!r}')
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


class OutputFolder:
    """``with OutputFolder(root, weights) as folder:`` holds the lock, ``record`` notes each
    output; the manifest is written when the block ends (and after each output, so that a
    killed run leaves it true)."""

    def __init__(self, root: str, weights: str, overwrite: bool = False) -> None:
        self.root, self.weights, self.overwrite = root, weights, overwrite
        self.outputs: dict[str, str] = {}
        self._lock = os.path.join(root, LOCK)

    def __enter__(self) -> 'OutputFolder':
        os.makedirs(self.root, exist_ok=True)
        self._take_lock()
        try:
            self.outputs = _read_manifest(self.root)
            others = sorted({w for w in self.outputs.values() if w != self.weights})
            if others and not self.overwrite:
                count = sum(1 for w in self.outputs.values() if w != self.weights)
                raise OutputFolderError(
                    f'{self.root} holds {count} outputs restored with other weights ({", ".join(others[:2])}); '
                    f'this run uses {self.weights}: restore into another -o folder, or add --overwrite '
                    'to write into it anyway')
        except BaseException:
            self._release()
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            self._write_manifest()
        finally:
            self._release()

    def record(self, path: str) -> None:
        self.outputs[os.path.relpath(os.path.abspath(path), os.path.abspath(self.root))] = self.weights
        self._write_manifest()

    def _write_manifest(self) -> None:
        if self.outputs:
            atomic_write_text(os.path.join(self.root, MANIFEST), json.dumps(
                {'written_by': 'perceive-ir restore', 'outputs': self.outputs}, indent=1, sort_keys=True) + '\n')

    def _take_lock(self) -> None:
        me = {'pid': os.getpid(), 'host': socket.gethostname()}
        for _ in range(2):
            try:
                fd = os.open(self._lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._holder()
                if holder is not None and (holder.get('host') != me['host'] or _alive(int(holder.get('pid', -1)))):
                    raise OutputFolderError(
                        f'another perceive-ir restore (pid {holder.get("pid")} on {holder.get("host")}) is '
                        f'writing into {self.root}; wait for it to end or choose another -o folder '
                        f'(a lock left by a machine that went down: delete {self._lock})') from None
                try:  # left by a run that was killed: taken over
                    os.remove(self._lock)
                except FileNotFoundError:
                    pass
                continue
            with os.fdopen(fd, 'w') as f:
                json.dump(me, f)
            return
        raise OutputFolderError(f'cannot take the lock {self._lock}; delete it if no run writes into {self.root}')

    def _holder(self) -> dict | None:
        try:
            with open(self._lock, encoding='utf-8') as f:
                data = json.load(f)
            return data if isinstance(data, dict) and isinstance(data.get('pid'), int) else None
        except (OSError, ValueError):
            return None

    def _release(self) -> None:
        holder = self._holder()
        if holder is not None and holder.get('pid') == os.getpid():
            try:
                os.remove(self._lock)
            except FileNotFoundError:
                pass
