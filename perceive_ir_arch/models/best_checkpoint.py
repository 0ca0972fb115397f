"""Which validation was the best: the method keeps the checkpoint of the best mean
validation PSNR over every validation set of the option file."""
from __future__ import annotations

from basicsr.utils import get_root_logger

__all__ = ['BestCheckpoint']


class BestCheckpoint:
    """``note`` each validation set's PSNR; once every set has reported at an iteration, it
    says whether their mean is the best so far (the caller then saves ``net_g_best.pth``).
    ``state_dict`` / ``load_state_dict``: the best so far, kept in the training state."""

    def __init__(self, sets: list[str]) -> None:
        self.sets = max(len(sets), 1)
        self.best: dict | None = None  # {'psnr': mean validation PSNR, 'iter': ...}
        self._scores: dict[int, dict[str, float]] = {}

    def note(self, name: str, psnr: float, current_iter: int) -> bool:
        scores = self._scores.setdefault(current_iter, {})
        scores[name] = psnr
        if len(scores) < self.sets:
            return False
        mean = sum(scores.values()) / len(scores)
        del self._scores[current_iter]
        logger = get_root_logger()
        if self.best is not None and mean <= self.best['psnr']:
            logger.info(f'Mean validation PSNR {mean:.4f} at iteration {current_iter}; best '
                        f"{self.best['psnr']:.4f} at iteration {self.best['iter']}")
            return False
        self.best = {'psnr': mean, 'iter': int(current_iter)}
        logger.info(f'Mean validation PSNR {mean:.4f} at iteration {current_iter}: the best so far, '
                    'saved as net_g_best.pth')
        return True

    def state_dict(self) -> dict | None:
        return None if self.best is None else dict(self.best)

    def load_state_dict(self, state: dict | None) -> None:
        self.best = None if state is None else dict(state)
