"""How much the installed plugin adds to `import basicsr`.

    python benchmarks/import_time.py [--repeat 7]

Alternates fresh interpreters with the autoload on and off (PERCEIVE_IR_NO_AUTOLOAD=1),
so that a busy machine affects both alike, and prints the median wall time of
`import basicsr` for each and their difference. `python -X importtime -c "import basicsr"`
shows the plugin's modules one by one.  Results: benchmarks/results/import_time.{json,md}.
"""
import argparse
import os
import statistics
import subprocess
import sys

CODE = 'import time; t = time.perf_counter(); import basicsr; print(time.perf_counter() - t)'


def once(autoload: bool) -> float:
    env = dict(os.environ)
    env.pop('PERCEIVE_IR_NO_AUTOLOAD', None)
    if not autoload:
        env['PERCEIVE_IR_NO_AUTOLOAD'] = '1'
    out = subprocess.run([sys.executable, '-c', CODE], env=env, capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip().splitlines()[-1])


if __name__ == '__main__':
    parser = argparse.ArgumentParser()
    parser.add_argument('--repeat', type=int, default=7)
    args = parser.parse_args()
    on, off = [], []
    for _ in range(args.repeat):
        off.append(once(False))
        on.append(once(True))
    m_on, m_off = statistics.median(on), statistics.median(off)
    from _common import machine, report

    report('import_time', f'import basicsr ({args.repeat} runs each, fresh interpreters); machine: {machine()}',
           ['import basicsr', 'median s'],
           [['plugin autoload off', f'{m_off:.3f}'],
            ['plugin autoload on (registers everything)', f'{m_on:.3f}'],
            ['added by the plugin', f'{m_on - m_off:+.3f} ({m_on / m_off:.3f}x)']],
           {'repeat': args.repeat, 'off_s': off, 'on_s': on, 'median_off_s': m_off, 'median_on_s': m_on,
            'machine': machine()})
