"""The photos of an owner's answer (整改照片): bounded, checked by their bytes, never trusted by their name.

A photo arrives as base64 in the JSON body (``{"type", "data"}``). It is
taken only when its first bytes are those of a JPEG, PNG or WebP image, the
type it claims is that one, and Pillow can read the whole image (a file that
only starts like an image, or an image with a script glued behind it, is
refused too: Pillow's ``verify`` reads every chunk). What is stored is the
bytes as sent, with the type the bytes showed: the pages serve it with that
type, ``nosniff`` and a sandboxing CSP, only to those who may see the item
(``stored``: a photo of the ledger or of a visit, read within the caller's scope).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
from dataclasses import dataclass
from typing import Any, Sequence

from PIL import Image, UnidentifiedImageError
from sqlalchemy import Column, Connection, Table, select

from cloud_ingest.access.auth import Principal
from cloud_ingest.access.scope import workshop_clause
from cloud_ingest.errors import BadRequest, NotFound, PayloadTooLarge, Unprocessable
from cloud_ingest.store.schema import workshops

MAX_PHOTO = 3_000_000  # bytes of one photo, decoded: a phone camera's JPEG
MAX_PHOTOS = 3  # per answer
MAX_PIXELS = 40_000_000  # a small file that unpacks into a huge image is refused before it is decoded
# the answer's JSON body: the photos as base64 (4/3) and the text
MAX_BODY = MAX_PHOTOS * (MAX_PHOTO * 4 // 3 + 4) + 64 * 1024

_MAGIC = (("image/jpeg", b"\xff\xd8\xff", "JPEG"), ("image/png", b"\x89PNG\r\n\x1a\n", "PNG"))
TYPES = ("image/jpeg", "image/png", "image/webp")


@dataclass(frozen=True, kw_only=True)
class Photo:
    content_type: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def sniff(data: bytes) -> str | None:
    """The image type the bytes begin with, or None."""
    for kind, magic, _ in _MAGIC:
        if data.startswith(magic):
            return kind
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def check(data: bytes, claimed: str | None, where: str) -> Photo:
    """One photo's bytes: under ``MAX_PHOTO``, an image by its magic bytes (and the claimed type, if any),
    readable whole by Pillow."""
    if len(data) > MAX_PHOTO:
        raise PayloadTooLarge(f"{where}: 照片过大（至多 {MAX_PHOTO} 字节）",
                              f"{where}: the photo is over {MAX_PHOTO} bytes")
    if not data:
        raise Unprocessable(f"{where}: 照片为空", f"{where}: the photo is empty")
    kind = sniff(data)
    if kind is None:
        raise Unprocessable(f"{where}: 不是 JPEG、PNG 或 WebP 图片", f"{where}: not a JPEG, PNG or WebP image "
                            "(by its first bytes)")
    if claimed is not None and claimed != kind:
        raise Unprocessable(f"{where}: 声称是 {claimed}，实际是 {kind}", f"{where}: claims {claimed}, its bytes "
                            f"are {kind}")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise Unprocessable(f"{where}: 图片像素过多", f"{where}: over {MAX_PIXELS} pixels")
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise Unprocessable(f"{where}: 图片已损坏或无法读取", f"{where}: the image cannot be read ({exc})") from exc
    return Photo(content_type=kind, data=data)


def from_json(value: Any) -> list[Photo]:
    """``photos`` of an answer's body: a list of at most ``MAX_PHOTOS`` ``{"type", "data"}`` (base64)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadRequest("photos", "必须是列表", "must be a list")
    if len(value) > MAX_PHOTOS:
        raise Unprocessable(f"photos: 至多 {MAX_PHOTOS} 张", f"photos: at most {MAX_PHOTOS}")
    out = []
    for n, p in enumerate(value):
        where = f"photos[{n}]"
        if not isinstance(p, dict) or set(p) - {"type", "data"} or not isinstance(p.get("data"), str):
            raise BadRequest(where, "必须是 {\"type\", \"data\"}（base64）", "must be {\"type\", \"data\"} (base64)")
        claimed = p.get("type")
        if claimed is not None and claimed not in TYPES:
            raise Unprocessable(f"{where}.type: 必须是 {', '.join(TYPES)}", f"{where}.type: one of {', '.join(TYPES)}")
        if len(p["data"]) > MAX_PHOTO * 4 // 3 + 4:
            raise PayloadTooLarge(f"{where}: 照片过大（至多 {MAX_PHOTO} 字节）",
                                  f"{where}: the photo is over {MAX_PHOTO} bytes")
        try:
            data = base64.b64decode(p["data"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BadRequest(where + ".data", "不是有效的 base64", "not valid base64") from exc
        out.append(check(data, claimed, where))
    return out


def meta(rows: Sequence[Any]) -> list[dict]:
    """What the evidence entry and the API say of stored photos (never their bytes)."""
    return [{"id": r.id, "type": r.content_type, "size": r.size, "sha256": r.sha256} for r in rows]


def stored(conn: Connection, who: Principal, link: Column, record: Table, photo_id: int) -> tuple[str, bytes]:
    """A stored photo's type and bytes, only within the caller's scope (404 outside it): ``link`` is the photo
    table's column naming its ``record`` (an item, a visit), whose ``workshop_id`` says whose it is."""
    photos = link.table
    row = conn.execute(select(photos.c.content_type, photos.c.data)
                       .join(record, record.c.id == link)
                       .join(workshops, workshops.c.id == record.c.workshop_id)
                       .where(workshop_clause(who), photos.c.id == photo_id)).first()
    if row is None:
        raise NotFound("照片不存在", f"photo {photo_id} does not exist")
    return row.content_type, bytes(row.data)
