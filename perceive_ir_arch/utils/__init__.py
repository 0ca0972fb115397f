"""Small helpers shared by the entry points."""
from .files import atomic_write_text, atomic_imwrite

__all__ = ['atomic_write_text', 'atomic_imwrite']
