"""Tables of the privacy stage: images held back (quarantine) and images waiting for a human check.

The masked images themselves go to the core `images` table (`privacy_status`, `privacy_audit`).
These two tables never hold image bytes: a quarantined original must not reach any output, and a
candidate is shown to annotators from its `uri` (or from the published `images` row).
"""

from __future__ import annotations

import pyarrow as pa

from schemas.registry import Column, Table, register

STR = pa.string()
I32 = pa.int32()

#: why an image was quarantined (the `reason_code` column)
QUARANTINE_CODES = ("undecodable", "too_large", "missing_bytes", "ocr_error", "ocr_timeout", "mask_error", "input_quarantined")
#: why an image is a candidate for the manual privacy check (the `reason` column)
CANDIDATE_REASONS = ("no_auto_mask", "quarantined")

PRIVACY_QUARANTINE = register(
    Table(
        name="privacy_quarantine",
        version=2,
        doc="Images the privacy stage refused to publish (fail closed): undecodable, too large, OCR error or timeout. No bytes.",
        columns=(
            Column("dataset", STR, "Data set name.", nullable=False),
            Column(
                "image_id",
                STR,
                "`images.image_id` of the image held back.",
                nullable=False,
            ),
            Column("split", STR, "Always `shared`.", nullable=False),
            Column("source_key", STR, "The source's key for the image (file name, crop key).", nullable=False),
            Column("uri", STR, "Where the original bytes are (path or URL); the bytes themselves are never copied."),
            Column("reason_code", STR, "One of " + ", ".join(QUARANTINE_CODES) + ".", nullable=False),
            Column("reason", STR, "Human-readable cause (exception type and message, timeout value).", nullable=False),
            Column("audit", STR, "JSON: engine and model versions, policy and its digest, in force when it was quarantined."),
        ),
        sort_key=("image_id", "source_key"),
        group="privacy",
    )
)

PRIVACY_CANDIDATES = register(
    Table(
        name="privacy_candidates",
        version=2,
        doc="Images automatic masking left without any mask: the work list of the manual privacy check (docs/exchange-formats.md).",
        columns=(
            Column("dataset", STR, "Data set name.", nullable=False),
            Column("image_id", STR, "`images.image_id` of the image; manual boxes refer to it.", nullable=False),
            Column("split", STR, "Always `shared`.", nullable=False),
            Column("source_key", STR, "The source's key for the image.", nullable=False),
            Column("uri", STR, "Where the bytes are (path or URL)."),
            Column("reason", STR, "One of " + ", ".join(CANDIDATE_REASONS) + ".", nullable=False),
            Column(
                "privacy_status",
                STR,
                "Status after automatic masking: unchecked (published, no mask) or quarantined (not published).",
                nullable=False,
            ),
            Column("num_text_lines", I32, "Text lines OCR found (a hint for prioritising the check); null when OCR did not run."),
        ),
        sort_key=("image_id", "source_key"),
        group="privacy",
    )
)
