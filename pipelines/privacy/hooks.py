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


# -- dialogue text (--deidentify-text) ---------------------------------------------------------
#: the free-text columns a build's text stage de-identifies, per table
#: (`column[].field`: a field of each struct in a list column, as `rec_samples.context[].text`)
TEXT_COLUMNS = {
    "turns": ("text", "text_templated"),
    "rec_samples": ("context[].text",),
    "jddc_query_rewrites": ("query_text", "rewritten"),
    "jddc_summaries": ("summary",),
}


def text_config(deid) -> dict:
    """What a builder's `config()` gains with the text stage (`{"text_privacy": ...}`: it changes
    the shards' fingerprint); nothing without it, so existing builds keep their fingerprints."""
    return {"text_privacy": deid.config()} if deid is not None else {}


def with_text_privacy(ctx, deid):
    """`ctx` itself, or (with a TextDeidentifier) a view of it whose `emit` de-identifies the
    free-text columns of `TEXT_COLUMNS` inside the shard work: one builder line,
    `ctx = with_text_privacy(ctx, self.deidentify_text)`, at the top of `process`."""
    if deid is None:
        return ctx
    from pipelines.privacy.text_stage import DeidentifyingContext

    return DeidentifyingContext(ctx, deid)
