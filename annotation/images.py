"""Images by reference: tasks hold a URL Label Studio serves, never the image bytes.

Label Studio keeps every task's data in its database and sends it with every task list, so an image
inlined as a data URI costs its size (x 4/3) per task in the database and on every page. Instead the
push writes each image once into an image store and the task holds its URL:

- `LocalFilesStore`: a folder under Label Studio's local-files document root
  (`LOCAL_FILES_DOCUMENT_ROOT`, set by annotation.server to `<data-dir>/files`); the task holds
  `/data/local-files/?d=images/ab/<image_id>.jpg`, which Label Studio serves only to logged-in
  members of the organisation, and only under a local-files storage attached to a project
  (`LSClient.ensure_local_storage`). The folder is an export of the images a push accepted: the
  push computes the URLs first (`src`), applies the privacy gate, and writes only the images of the
  tasks that passed it (`publish`), so an image the gate refused is never reachable.
- http(s) URIs of the inputs are kept as they are (already a reference).

`src` is pure (the URL depends on the image id and format only), so task identity and offline builds
(`mmdial annotate flows --from`, unit tests) need no server and write nothing.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from urllib.parse import parse_qs, quote, urlparse

URL_PREFIX = "/data/local-files/?d="
#: the folder of the document root that holds the images (a storage path must be a subfolder of the root)
IMAGES_FOLDER = "images"
PLACEHOLDER_NAME = "no-image.png"
_EXT = {"jpg": "jpg", "jpeg": "jpg", "png": "png", "gif": "gif", "webp": "webp", "bmp": "bmp"}


class ImageStoreError(RuntimeError):
    """An image that should be published cannot be (bytes gone, store not writable, no store)."""


def _ext(row: dict) -> str:
    fmt = str(row.get("format") or "").lower()
    if fmt in _EXT:
        return _EXT[fmt]
    uri_ext = os.path.splitext(str(row.get("uri") or row.get("source_key") or ""))[1].lower().lstrip(".")
    return _EXT.get(uri_ext, "jpg")


def placeholder_png() -> bytes:
    """A small grey picture that says there is no image (drawn, so nothing is shipped or downloaded)."""
    import io

    from PIL import Image, ImageDraw

    im = Image.new("RGB", (160, 40), (235, 235, 235))
    ImageDraw.Draw(im).text((12, 14), "no image in these turns", fill=(90, 90, 90))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def image_bytes(row: dict) -> bytes | None:
    """The image's bytes: the row's `data`, else the file at its local `uri`; None when neither is there."""
    data = row.get("data")
    if data is not None:
        return bytes(data)
    uri = row.get("uri") or ""
    if uri and not uri.startswith(("http://", "https://")) and os.path.isfile(uri):
        with open(uri, "rb") as fh:
            return fh.read()
    return None


def has_bytes(row: dict) -> bool:
    uri = row.get("uri") or ""
    return row.get("data") is not None or bool(uri and not uri.startswith(("http://", "https://")) and os.path.isfile(uri))


def is_reference(src) -> bool:
    """A local-files URL of this module (what `LocalFilesStore.src` returns)."""
    return isinstance(src, str) and src.startswith(URL_PREFIX)


def relpath_of(src: str) -> str:
    """`images/ab/<id>.jpg` of a `/data/local-files/?d=...` URL."""
    return parse_qs(urlparse(src).query)["d"][0]


class LocalFilesStore:
    """Images as files under a local-files document root; `root=None` computes URLs only (offline builds)."""

    def __init__(self, root: str | os.PathLike | None = None, folder: str = IMAGES_FOLDER):
        self.root = None if root is None else os.path.abspath(root)
        self.folder = folder
        self._pending: dict[str, tuple[str, dict]] = {}  # image_id -> (relpath, row): computed, not yet written
        self.needs_placeholder = False

    @property
    def storage_path(self) -> str | None:
        """The folder a Label Studio local-files storage must point at (a subfolder of the document root)."""
        return None if self.root is None else os.path.join(self.root, self.folder)

    def relpath(self, image_id: str, ext: str) -> str:
        return f"{self.folder}/{image_id[:2]}/{image_id}.{ext}"

    def src(self, row: dict) -> str | None:
        """The URL a task shows for an images-table row (None: no bytes to show). Writes nothing."""
        uri = row.get("uri") or ""
        if uri.startswith(("http://", "https://")):
            return uri
        image_id = row.get("image_id")
        if not image_id or not has_bytes(row):
            return None
        rel = self.relpath(str(image_id), _ext(row))
        self._pending[str(image_id)] = (rel, row)
        return URL_PREFIX + quote(rel, safe="/")

    def placeholder(self) -> str:
        """The URL of a small "no image" picture, for a task whose turns have none: the editor's Image tag
        never finishes loading on an empty list (the page hangs), so the list is never empty."""
        self.needs_placeholder = True
        return URL_PREFIX + quote(f"{self.folder}/{PLACEHOLDER_NAME}", safe="/")

    def publish(self, image_ids: Iterable[str]) -> int:
        """Write the named images (those of the tasks that passed the privacy gate); returns how many were new."""
        if self.root is None:
            raise ImageStoreError("no image store: images by reference need the server's local-files root (--data-dir)")
        written = 0
        if self.needs_placeholder and not os.path.exists(os.path.join(self.root, self.folder, PLACEHOLDER_NAME)):
            self.put(f"{self.folder}/{PLACEHOLDER_NAME}", placeholder_png())
        for image_id in sorted(set(image_ids)):
            if image_id not in self._pending:
                continue  # an http(s) URL, or not an image of this build
            rel, row = self._pending[image_id]
            path = os.path.join(self.root, rel)
            if os.path.exists(path):
                continue
            data = image_bytes(row)
            if data is None:
                raise ImageStoreError(f"image {image_id}: its bytes are gone ({row.get('uri')})")
            self.put(rel, data)
            written += 1
        return written

    def put(self, rel: str, data: bytes) -> str:
        """Write `data` at `rel` under the root atomically (owner-only); returns its URL."""
        if self.root is None:
            raise ImageStoreError("no image store: images by reference need the server's local-files root (--data-dir)")
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise
        return URL_PREFIX + quote(rel, safe="/")

    def read(self, src: str) -> bytes | None:
        """The bytes behind a URL of this store (None: not a URL of this store, or not written)."""
        if self.root is None or not is_reference(src):
            return None
        path = os.path.normpath(os.path.join(self.root, relpath_of(src)))
        if not path.startswith(self.root + os.sep) or not os.path.isfile(path):
            return None
        with open(path, "rb") as fh:
            return fh.read()
