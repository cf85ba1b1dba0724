"""Resolve image references (URLs, ids, file names) to files and content-hash ids, for every data
set: a reference maps to a file name (through optional id -> URL and URL -> file maps, as MMD
has), and the file, read inside the image folder only, to the id its own `images` row gets.
A reference that maps to nothing, or to a file that is not there or does not decode, is missing
with its reason, never replaced by a blank image.
"""

from __future__ import annotations

import functools
import posixpath
from urllib.parse import urlparse

from pipelines.core import io
from pipelines.core.context import Reject
from pipelines.core.images import IMAGE_EXTENSIONS, image_size
from pipelines.core.paths import contained, refused_name


def stem(name: str) -> str:
    base = posixpath.basename(urlparse(name).path if "://" in name else name)
    return base.rsplit(".", 1)[0] if "." in base else base


class ImageResolver:
    """ref -> (file name or None, reason); file -> sha256 id (cached per worker)."""

    def __init__(self, images_dir: str | None, url2img: dict[str, str] | None = None, id2url: dict[str, str] | None = None):
        self.images_dir = images_dir
        self.url2img = url2img or {}
        self.id2url = id2url or {}

    def file_name(self, ref: str) -> tuple[str | None, str]:
        if ref in self.id2url and self.id2url[ref] is None:
            return None, f"ambiguous: id {ref!r} names more than one URL in the id map"
        url = self.id2url.get(ref)
        if url is None:
            if self.id2url and "://" not in ref and not ref.lower().endswith(IMAGE_EXTENSIONS):
                return None, "unmapped"  # an MMD 2.0 id that image_id.json does not know
            url = ref
        if url in self.url2img:
            return self.url2img[url], ""
        if "://" in url:
            return posixpath.basename(urlparse(url).path), ""
        if url.lower().endswith(IMAGE_EXTENSIONS):
            return url, ""
        return None, "unmapped"

    @functools.lru_cache(maxsize=200_000)  # noqa: B019 - refs repeat across a shard's samples
    def product_id(self, ref: str) -> str:
        name, _ = self.file_name(ref)
        return stem(name) if name else ref

    @functools.lru_cache(maxsize=200_000)  # noqa: B019 - refs repeat across a shard's samples
    def refusal(self, ref: str) -> str:
        """Why `ref` cannot name a file of the build ('' when it can): unmapped or ambiguous, a
        path that leaves the image folder (absolute, `..`, a link out), or a file that is not
        there. Ids derived from a refused reference (MMD's product ids) must not be published."""
        name, reason = self.file_name(ref)
        if name is None:
            return reason
        if not self.images_dir:
            return refused_name(name) or ""
        path, reason = contained(self.images_dir, name)
        if path is not None and "://" in self.images_dir and not io.exists(path):
            return "not_found"
        return reason

    def resolve(self, ref: str) -> tuple[str | None, str]:
        """(content id, '') or (None, reason)."""
        name, reason = self.file_name(ref)
        if name is None:
            return None, reason
        if not self.images_dir:
            return None, "not_found"
        return self._hash(name)

    @functools.lru_cache(maxsize=200_000)  # noqa: B019 - one resolver per worker, lives as long as it
    def _hash(self, name: str) -> tuple[str | None, str]:
        """The id the image's own work unit publishes, or why there will be none: the same file
        (inside the image folder only) and the same acceptance (every pixel decodes, no bomb)."""
        path, reason = contained(self.images_dir, name)
        if path is None:
            return None, reason
        try:
            data = io.read_bytes(path)
        except OSError:
            return None, "not_found"
        try:
            width, _, _ = image_size(data, decode=True)
        except Reject as exc:
            return None, f"undecodable: {exc}"
        if width is None:
            return None, "undecodable: cannot decode image"
        return io.sha256_hex(data), ""
