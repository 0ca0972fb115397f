"""Small helpers shared by the entry points."""
from .files import atomic_imwrite, atomic_torch_save, atomic_write_text, replacing

__all__ = ['atomic_imwrite', 'atomic_torch_save', 'atomic_write_text', 'replacing']
