"""How much the installed plugin adds to `import basicsr`.

    python benchmarks/import_time.py [--repeat 5]

Runs fresh interpreters with the autoload on and off (PERCEIVE_IR_NO_AUTOLOAD=1) and
prints the median wall time of `import basicsr` for each, and their ratio.
"""
import argparse
import os
import statistics
import subprocess
import sys

CODE = 'import time; t = time.perf_counter(); import basicsr; print(time.perf_counter() - t)'


def measure(env_extra: dict, repeat: int) -> float:
    env = dict(os.environ, **env_extra)
    times = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, '-c', CODE], env=env, capture_output=True, text=True,
                             check=True)
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


if __name__ == '__main__':
    parser = argparse.ArgumentParser()
    parser.add_argument('--repeat', type=int, default=5)
    args = parser.parse_args()
    # interleave so that a busy machine affects both alike
    off = measure({'PERCEIVE_IR_NO_AUTOLOAD': '1'}, args.repeat)
    on = measure({}, args.repeat)
    print('| import basicsr | median s |')
    print('|---|---|')
    print(f'| plugin autoload off | {off:.3f} |')
    print(f'| plugin autoload on | {on:.3f} |')
    print(f'| added by the plugin | {on - off:+.3f} ({on / off:.3f}x) |')
