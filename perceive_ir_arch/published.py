"""Published Perceive-IR results (PSNR dB, SSIM), the quality targets (docs/method.md section 5),
the tasks of each recipe, and the check that a trained network is compared with the right ones.

Keyed by the dataset names that options/test.yml and options/test_5task.yml use, so the
test table can show the paper's number beside ours.
"""
from __future__ import annotations

__all__ = ['PUBLISHED_RESULTS', 'PUBLISHED_TASKS', 'check_published_tasks']

# the tasks of the paper's two recipes
PUBLISHED_TASKS: dict[str, tuple[str, ...]] = {
    '3task': ('denoise', 'derain', 'dehaze'),
    '5task': ('denoise', 'derain', 'dehaze', 'deblur', 'lowlight'),
}

PUBLISHED_RESULTS: dict[str, dict[str, tuple[float, float]]] = {
    '3task': {
        'CBSD68_sigma15': (34.13, 0.934),
        'CBSD68_sigma25': (31.53, 0.890),
        'CBSD68_sigma50': (28.31, 0.804),
        'SOTS_outdoor': (30.87, 0.975),
        'Rain100L': (38.29, 0.980),
    },
    '5task': {
        'SOTS_outdoor': (28.19, 0.964),
        'Rain100L': (37.25, 0.977),
        'CBSD68_sigma25': (31.44, 0.887),
        'GoPro': (29.46, 0.886),
        'LOL': (22.88, 0.833),
    },
}


def _option_tasks(opt: dict, phases: tuple[str, ...]) -> set[str]:
    """The tasks the datasets of ``phases`` (train, val, test) draw from."""
    tasks = set()
    for name, dataset in (opt.get('datasets') or {}).items():
        if str(name).split('_')[0] in phases and isinstance(dataset, dict):
            tasks |= {s.get('task') for s in dataset.get('sources') or [] if isinstance(s, dict)}
    return tasks - {None}


def check_published_tasks(opt: dict, trained: tuple[str, ...], what: str) -> None:
    """A network trained on ``trained`` must not be scored against the paper's numbers of
    another recipe, nor tested on tasks it never learnt."""
    published = (opt.get('val') or {}).get('published')
    if published in PUBLISHED_TASKS and set(trained) != set(PUBLISHED_TASKS[published]):
        raise ValueError(f'{what}, but val.published: {published} compares with the paper\'s '
                         f'{published} model (tasks {sorted(PUBLISHED_TASKS[published])}); use the '
                         f'test file of its recipe, or val.published: ~')
    if opt.get('is_train'):
        return  # fine-tuning on other tasks is the user's choice
    unseen = sorted(_option_tasks(opt, ('test', 'val')) - set(trained))
    if unseen:
        raise ValueError(f'{what}, which never learnt {unseen} that the option file tests')
