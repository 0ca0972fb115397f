"""What every benchmark script shares: the machine description and where results go."""
from __future__ import annotations

import json
import os
import platform

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'results')


def machine(device: str = 'cpu') -> dict:
    import torch

    name = 'cpu'
    if device != 'cpu' and torch.cuda.is_available():
        name = torch.cuda.get_device_name(torch.device(device))
    return {'platform': platform.platform(), 'processor': platform.processor() or platform.machine(),
            'cpu_count': os.cpu_count(), 'torch': torch.__version__,
            'threads': torch.get_num_threads(), 'device': name}


def write_results(name: str, data: dict, table: str) -> None:
    """benchmarks/results/<name>.json and .md (the printed table)."""
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, f'{name}.json'), 'w') as f:
        json.dump(data, f, indent=2)
    with open(os.path.join(RESULTS, f'{name}.md'), 'w') as f:
        f.write(table + '\n')


def report(name: str, title: str, header: list[str], cells: list[list[str]], data: dict) -> None:
    """Print a Markdown table under ``title`` and write it with ``data`` (write_results)."""
    lines = [title, '', '| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    lines += ['| ' + ' | '.join(row) + ' |' for row in cells]
    text = '\n'.join(lines)
    print(text)
    write_results(name, data, text)
