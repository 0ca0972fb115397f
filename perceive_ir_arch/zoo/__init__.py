"""Every restorer the plugin runs by name, and the benchmarks to compare them on.

``list_models()`` / ``model_entry(name)``: the table (network, published weights, tasks,
publisher's protocol, published numbers); ``create_network(name)``: its network with its
weights.  ``create_restorer(name)`` (``perceive_ir_arch.inference``) and ``perceive-ir
restore / pack / export / evaluate --weights NAME`` take the same names.
"""
from .benchmarks import BENCHMARKS, SUITES, Benchmark, benchmark_named
from .models import MODELS, ModelEntry, Published, list_models, model_entry
from .network import ModelNetwork, create_network, model_network
from .options import named_model, with_named_model
from .protocols import COMMON, Protocol

__all__ = ['BENCHMARKS', 'SUITES', 'Benchmark', 'benchmark_named', 'MODELS', 'ModelEntry', 'Published',
           'list_models', 'model_entry', 'ModelNetwork', 'create_network', 'model_network', 'named_model',
           'with_named_model', 'COMMON', 'Protocol']
