"""What a builder needs from the privacy stage when it may mask images, without loading the stage.

`pipelines.privacy.stage` pulls in OCR engines, recognisers and numpy image code; a build that
does not mask images (most) only needs its layout and argument check, so those live here."""

from __future__ import annotations

from schemas.core import SPLIT_SHARED

PRIVACY_TABLES = ("privacy_candidates", "privacy_quarantine")


def check_build_masking(mask, embed_image_bytes: bool) -> None:
    """Masked bytes replace the originals, so a build that masks must keep image bytes."""
    if mask is not None and not embed_image_bytes:
        from pipelines.core.builder import UsageError

        raise UsageError("--mask-images needs the image bytes (masked bytes replace the originals): drop --no-image-bytes")


def with_privacy_tables(layout: dict[str, tuple[str, ...]], mask) -> dict[str, tuple[str, ...]]:
    """A builder's layout plus the quarantine and candidate tables when it masks images."""
    if mask is None:
        return layout
    return {**layout, **{t: (SPLIT_SHARED,) for t in PRIVACY_TABLES}}
