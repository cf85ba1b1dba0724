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
- `S3Store`: an S3-compatible bucket; the task holds `s3://bucket/key`, which Label Studio serves to
  logged-in members through a presigned URL (a cloud storage connection on the project).
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
#: the endpoint of an S3-compatible object store (MinIO, moto, ...); unset: AWS
S3_ENDPOINT_ENV = "MMDIAL_S3_ENDPOINT"
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


class ImageStore:
    """What every store shares: URLs computed first (`src`, pure), images written after the gate (`publish`)."""

    folder = IMAGES_FOLDER

    def __init__(self):
        self._pending: dict[str, tuple[str, dict]] = {}  # image_id -> (relpath, row): computed, not yet written
        self.needs_placeholder = False

    # backend: where `rel` lives, whether it is there, writing and reading it, making the server serve it
    def url(self, rel: str) -> str:
        raise NotImplementedError

    def exists(self, rel: str) -> bool:
        raise NotImplementedError

    def put(self, rel: str, data: bytes) -> str:
        raise NotImplementedError

    def read(self, src: str) -> bytes | None:
        raise NotImplementedError

    def attach(self, client, project_id: int) -> None:
        """Make the server serve this store's images to the project's members."""
        raise NotImplementedError

    def owns(self, src) -> bool:
        raise NotImplementedError

    @property
    def writable(self) -> bool:
        """False for a store that only computes URLs (offline builds): a push of images must fail before it starts."""
        return True

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
        return self.url(rel)

    def placeholder(self) -> str:
        """The URL of a small "no image" picture, for a task whose turns have none: the editor's Image tag
        never finishes loading on an empty list (the page hangs), so the list is never empty."""
        self.needs_placeholder = True
        return self.url(f"{self.folder}/{PLACEHOLDER_NAME}")

    def publish(self, image_ids: Iterable[str]) -> int:
        """Write the named images (those of the tasks that passed the privacy gate); returns how many were new."""
        written = 0
        if self.needs_placeholder and not self.exists(f"{self.folder}/{PLACEHOLDER_NAME}"):
            self.put(f"{self.folder}/{PLACEHOLDER_NAME}", placeholder_png())
        for image_id in sorted(set(image_ids)):
            if image_id not in self._pending:
                continue  # an http(s) URL, or not an image of this build
            rel, row = self._pending[image_id]
            if self.exists(rel):
                continue
            data = image_bytes(row)
            if data is None:
                raise ImageStoreError(f"image {image_id}: its bytes are gone ({row.get('uri')})")
            self.put(rel, data)
            written += 1
        return written


class LocalFilesStore(ImageStore):
    """Images as files under a local-files document root; `root=None` computes URLs only (offline builds)."""

    def __init__(self, root: str | os.PathLike | None = None, folder: str = IMAGES_FOLDER):
        super().__init__()
        self.root = None if root is None else os.path.abspath(root)
        self.folder = folder

    @property
    def storage_path(self) -> str | None:
        """The folder a Label Studio local-files storage must point at (a subfolder of the document root)."""
        return None if self.root is None else os.path.join(self.root, self.folder)

    def url(self, rel: str) -> str:
        return URL_PREFIX + quote(rel, safe="/")

    def owns(self, src) -> bool:
        return is_reference(src)

    @property
    def writable(self) -> bool:
        return self.root is not None

    def _root(self) -> str:
        if self.root is None:
            raise ImageStoreError("no image store: images by reference need the server's local-files root (--data-dir)")
        return self.root

    def exists(self, rel: str) -> bool:
        return os.path.exists(os.path.join(self._root(), rel))

    def put(self, rel: str, data: bytes) -> str:
        """Write `data` at `rel` under the root atomically (owner-only); returns its URL."""
        path = os.path.join(self._root(), rel)
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
        return self.url(rel)

    def read(self, src: str) -> bytes | None:
        """The bytes behind a URL of this store (None: not a URL of this store, or not written)."""
        if self.root is None or not is_reference(src):
            return None
        path = os.path.normpath(os.path.join(self.root, relpath_of(src)))
        if not path.startswith(self.root + os.sep) or not os.path.isfile(path):
            return None
        with open(path, "rb") as fh:
            return fh.read()

    def attach(self, client, project_id: int) -> None:
        client.ensure_local_storage(project_id, self.storage_path)


class S3Store(ImageStore):
    """Images as objects of an S3-compatible bucket (`s3://bucket/prefix`), for a server whose disk the push
    cannot write. Tasks hold `s3://bucket/prefix/images/ab/<id>.jpg`; Label Studio rewrites it for a
    logged-in member to `/tasks/<id>/resolve/?fileuri=...`, which answers with a presigned URL of
    `presign_ttl_min` minutes (an anonymous client gets no URL at all). The credentials are boto3's
    (environment, profile); Label Studio gets the same ones in the project's S3 storage."""

    def __init__(self, url: str, endpoint_url: str | None = None, region: str | None = None, presign_ttl_min: int = 15, s3=None):
        super().__init__()
        u = urlparse(url)
        if u.scheme != "s3" or not u.netloc:
            raise ImageStoreError(f"an S3 image store is s3://bucket[/prefix], got {url!r}")
        self.bucket, self.prefix = u.netloc, u.path.strip("/")
        self.endpoint_url, self.region, self.presign_ttl_min = endpoint_url, region, presign_ttl_min
        if s3 is None:
            import boto3

            s3 = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)
        self.s3 = s3

    def key(self, rel: str) -> str:
        return f"{self.prefix}/{rel}" if self.prefix else rel

    def url(self, rel: str) -> str:
        return f"s3://{self.bucket}/{self.key(rel)}"

    @staticmethod
    def raw_uri(src):
        """`s3://...` of a task value, also when Label Studio's task API handed it out as its proxy URL."""
        if isinstance(src, str) and src.startswith("/tasks/") and "fileuri=" in src:
            import base64

            try:
                return base64.urlsafe_b64decode(src.split("fileuri=", 1)[1]).decode()
            except ValueError:
                return src
        return src

    def owns(self, src) -> bool:
        src = self.raw_uri(src)
        return isinstance(src, str) and src.startswith(f"s3://{self.bucket}/")

    def exists(self, rel: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.s3.head_object(Bucket=self.bucket, Key=self.key(rel))
            return True
        except ClientError:
            return False

    def put(self, rel: str, data: bytes) -> str:
        ctype = {"png": "image/png", "gif": "image/gif", "webp": "image/webp", "bmp": "image/bmp"}.get(rel.rsplit(".", 1)[-1], "image/jpeg")
        self.s3.put_object(Bucket=self.bucket, Key=self.key(rel), Body=data, ContentType=ctype)
        return self.url(rel)

    def read(self, src: str) -> bytes | None:
        if not self.owns(src):
            return None
        src = self.raw_uri(src)
        from botocore.exceptions import ClientError

        try:
            return self.s3.get_object(Bucket=self.bucket, Key=src[len(f"s3://{self.bucket}/") :])["Body"].read()
        except ClientError:
            return None

    def attach(self, client, project_id: int) -> None:
        import boto3

        creds = boto3.Session().get_credentials()  # what boto3 resolves (environment, profile): Label Studio needs the same
        client.ensure_s3_storage(
            project_id,
            bucket=self.bucket,
            prefix=self.key(self.folder),
            endpoint=self.endpoint_url,
            region=self.region or self.s3.meta.region_name,
            key_id=getattr(creds, "access_key", None),
            secret=getattr(creds, "secret_key", None),
            presign_ttl_min=self.presign_ttl_min,
        )


def store_for(spec: str | None, local_root: str | os.PathLike | None) -> ImageStore | None:
    """The store a push writes to: `s3://bucket/prefix` (endpoint from $MMDIAL_S3_ENDPOINT), else the
    local-files root of the server's data dir; None when neither is known."""
    if spec and spec.startswith("s3://"):
        return S3Store(spec, endpoint_url=os.environ.get(S3_ENDPOINT_ENV) or None, region=os.environ.get("AWS_DEFAULT_REGION"))
    root = spec or local_root
    return None if root is None else LocalFilesStore(root)
