"""Pretrained parts: where they are published, where a local copy is found, how a file is read.

``PRETRAINED_PARTS`` lists each part with its published addresses and file names;
``locate`` applies the one lookup rule (option or flag, ``$PERCEIVE_IR_WEIGHTS``, the
Hugging Face hub cache, torch hub's checkpoints, ``~/.cache/clip``); ``read_state_dict``
reads every published container without running code; ``load_strict`` loads with one
message that says what a wrong file is.  Nothing here downloads.
"""
from .identify import describe
from .loading import (PARAM_KEYS, check_fold, load_network_file, load_strict, load_trained, mismatch, network_params,
                      pretrained_state)
from .locate import WEIGHTS_ENV, find_published, locate, search_places, weights_dir
from .parts import IMAGENET, OPENAI_CLIP, PRETRAINED_PARTS, PretrainedPart, pretrained_part
from .reading import PretrainedFileError, read_checkpoint, read_state_dict
from .trained import TrainedWeights, read_trained, register_container, resolve_weights

__all__ = ['IMAGENET', 'OPENAI_CLIP', 'PARAM_KEYS', 'PRETRAINED_PARTS', 'PretrainedPart', 'PretrainedFileError', 'WEIGHTS_ENV', 'describe',
           'load_network_file', 'load_trained', 'network_params', 'check_fold', 'TrainedWeights', 'read_trained', 'register_container', 'resolve_weights',
           'find_published', 'load_strict', 'locate', 'mismatch', 'pretrained_part', 'pretrained_state',
           'read_checkpoint', 'read_state_dict', 'search_places', 'weights_dir']
