"""Tables written by `modeling/`: precomputed image features (`mmdial features`)."""

from __future__ import annotations

import pyarrow as pa

from schemas.registry import Column, Table, register

IMAGE_FEATURES = register(
    Table(
        name="image_features",
        version=2,
        doc="One row per image of `images`: a CNN's pooled feature vector, so training need not run the CNN.",
        columns=(
            Column("dataset", pa.string(), "Data set name (as in `images`).", nullable=False),
            Column("image_id", pa.string(), "`images.image_id` of the image.", nullable=False),
            Column("split", pa.string(), "Always `shared` (images are shared across splits).", nullable=False),
            Column("encoder", pa.string(), "Feature extractor: efficientnet_lite0, resnet18, resnet18_random.", nullable=False),
            Column(
                "feature",
                pa.list_(pa.float32()),
                "Globally pooled feature (512-d for ResNet-18, 1280-d for EfficientNet-lite0).",
                nullable=False,
            ),
        ),
        sort_key=("image_id",),
        group="modeling",
    )
)
