"""The frozen pretrained networks the method reads but never trains: DINOv2 (semantic
guidance), CLIP (the quality perceiver), VGG16 (the perceptual loss), and how a network
holds them outside its trained state."""
from .clip import CLIP_ARCHS, build_clip
from .dinov2 import SEMANTIC_ENCODERS, SemanticEncoder, build_semantic_encoder
from .frozen import HoldsFrozen, data_parallel_refusal, freeze
from .vgg16 import VGG16Features

__all__ = ['CLIP_ARCHS', 'HoldsFrozen', 'SEMANTIC_ENCODERS', 'SemanticEncoder', 'VGG16Features', 'build_clip',
           'build_semantic_encoder', 'data_parallel_refusal', 'freeze']
