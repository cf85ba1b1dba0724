"""Image features for the JDDC models: modeling/'s `image_features` table and encoders.

The paper takes ResNet-18's last pooling layer (512-d); `image.encoder=resnet18 image.weights=FILE`
does that with a local torchvision-format file, and the offline default is the packaged ImageNet
EfficientNet-lite0 (1280-d). The CNN runs once per build and encoder (`ensure_features` caches the
table in the build folder, or in the run folder when the build is read-only); models read the
standardised vectors. An example's images become a fixed-size block of feature rows, the most
recent `max_images` kept, -1 padding on the left (oldest first, newest last).
"""

from __future__ import annotations

import numpy as np

from modeling.data.catalogue import ImageFeatures, lookup
from modeling.data.features import ensure_features


def load_features(data: str, cfg_image: dict, fallback_out: str, device: str = "cpu", progress: bool = False) -> ImageFeatures:
    return ImageFeatures.load(ensure_features(data, cfg_image, fallback_out, device, progress))


def image_rows(features: ImageFeatures, image_lists: list[list[str]], max_images: int) -> np.ndarray:
    """int64 [examples, max_images]: rows in features.matrix, newest last, -1 for none (an
    image without a feature, e.g. a dead letter, is left out)."""
    out = np.full((len(image_lists), max_images), -1, np.int64)
    if not max_images:
        return out
    flat = [i for ims in image_lists for i in ims]
    rows = lookup(flat, features.ids) if flat else np.zeros(0, np.int64)
    pos = 0
    for k, ims in enumerate(image_lists):
        r = rows[pos : pos + len(ims)]
        pos += len(ims)
        r = r[r >= 0][-max_images:]
        if len(r):
            out[k, max_images - len(r) :] = r
    return out
