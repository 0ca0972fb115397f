"""Dataset folder layouts, as data.

A layout says where the degraded (lq) and clean (gt) images of a source live under its
``dataroot`` and how a degraded file's name gives its clean file's name:
``lq_pattern`` is matched (whole) against the lq path relative to the lq folder, without
extension; ``gt_name`` is formatted with the match's named groups to give the gt path
relative to the gt folder, without extension (the gt extension may differ: RESIDE).

Any key of a layout can be overridden per source in the options (``lq_dir``, ``gt_dir``,
``lq_pattern``, ``gt_name``), and ``dataroot_lq`` / ``dataroot_gt`` replace
``dataroot`` + dir entirely.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ['Layout', 'LAYOUTS']


@dataclass(frozen=True)
class Layout:
    lq_dir: str | None  # None: no degraded files, the degradation is made on the fly
    gt_dir: str
    lq_pattern: str
    gt_name: str
    example: str
    # what makes two pairs the same scene, for the stage-1 folds: formatted like gt_name;
    # '' = the clean image (RESIDE's hazy versions of one clean image share it)
    scene: str = ''


LAYOUTS: dict[str, Layout] = {
    'synthetic': Layout(None, '', '', '',
                        'dataroot/*.png (clean; the task\'s degradation is made on the fly)'),
    'paired': Layout('', '', r'(?P<name>.+)', '{name}',
                     'dataroot_lq/<name>.png <-> dataroot_gt/<name>.png'),
    'rain_promptir': Layout('rainy', 'gt', r'rain-(?P<id>.+)', 'norain-{id}',
                            'rainy/rain-<id>.png <-> gt/norain-<id>.png'),
    'input_target': Layout('input', 'target', r'(?P<name>.+)', '{name}',
                           'input/<name>.png <-> target/<name>.png (Rain100L test)'),
    'reside_ots': Layout('synthetic', 'original', r'(?:.+/)?(?P<id>[^/_]+)_[^/]+', '{id}',
                         'synthetic/<part>/<id>_<A>_<beta>.jpg <-> original/<id>.jpg'),
    'reside_sots': Layout('input', 'target', r'(?P<id>[^/_]+)_[^/]+', '{id}',
                          'input/<id>_<A>_<beta>.jpg <-> target/<id>.png'),
    'gopro': Layout('', '', r'(?P<seq>.+)/blur/(?P<name>[^/]+)', '{seq}/sharp/{name}',
                    '<sequence>/blur/<name>.png <-> <sequence>/sharp/<name>.png',
                    scene='{seq}'),  # neighbouring frames of a sequence show one scene
    'lol': Layout('low', 'high', r'(?P<name>.+)', '{name}',
                  'low/<name>.png <-> high/<name>.png'),
}
