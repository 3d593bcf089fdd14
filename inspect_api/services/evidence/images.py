"""Image validation, EXIF extraction and derivatives.

``inspect_image(path, max_pixels)`` decides whether a file is a photo we keep:
the magic bytes must say JPEG, PNG, WebP or HEIC; the header is parsed and the
pixel count checked *before* any pixel is decoded (decompression bombs); the
file must not also be a PDF, ZIP/JAR/Office file or HTML/script (polyglots);
then the image is decoded once — for a JPEG at the smallest DCT scale that
still covers the preview (Pillow draft mode) — which also proves it is not
truncated or corrupt. That single decode yields both derivatives (preview: long
side 1280, thumb: 256, made from the preview), rotated per EXIF orientation and
written as JPEG with no EXIF/XMP/GPS at all.

Nothing here touches the database or storage.
"""
from __future__ import annotations

import io
import mmap
import os
import re
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from ...errors import ValidationError

PREVIEW_SIZE = 1280
THUMB_SIZE = 256
JPEG_QUALITY = 85
# Camera clocks without an EXIF offset are taken as local time here (Asia/Shanghai)
DEFAULT_EXIF_TZ = timezone(timedelta(hours=8))

CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "HEIF": "image/heic"}
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"heif"}

# Signatures of other formats that must not hide inside an image (polyglots): PDF
# (read anywhere in the first KiB by most readers, we look everywhere), HTML/SVG/script
# that a browser might sniff, PHP. Each is long enough that compressed pixel data
# practically never contains it by chance. Tags are matched case-insensitively.
_POLYGLOT_TAGS = (b"<script", b"<html", b"<svg", b"<iframe", b"<object", b"<embed", b"<body", b"<?php",
                  b"<!doctype")
# Candidates first (one fast regex pass over the mapped file), then the tag check on each
_TAG_START = re.compile(rb"<[sShHiIoObBeE?!]")
_ZIP_EOCD = b"PK\x05\x06"


class ImageRejected(ValidationError):
    """A file that is not a photo we keep; ``code`` says why."""

    status = 422
    code = "invalid_image"
    message = "不是有效的图片 (not a valid JPEG, PNG, WebP or HEIC image)"


@dataclass
class ImageInfo:
    format: str  # JPEG / PNG / WEBP / HEIF
    content_type: str
    width: int  # as displayed (after EXIF orientation)
    height: int
    orientation: int | None = None
    exif_taken_at: datetime | None = None
    exif_latitude: float | None = None
    exif_longitude: float | None = None
    preview: bytes = field(default=b"", repr=False)
    thumb: bytes = field(default=b"", repr=False)


def _reject(code: str, message: str) -> ImageRejected:
    return ImageRejected(message, code=code)


def sniff_format(head: bytes) -> str | None:
    """The format named by the file's first bytes, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in _HEIC_BRANDS:
        return "HEIF"
    return None


def _check_polyglot(path: str, fmt: str) -> None:
    size = os.path.getsize(path)
    if size < 16:
        raise _reject("invalid_image", "文件过小 (the file is too small to be an image)")
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        if _has_marker(mm, size):
            raise _reject("polyglot_file", "图片中夹带了其他类型的文件 (the image also contains another file type)")
        # A ZIP (JAR, APK, Office) is read from its end-of-central-directory record
        pos = mm.rfind(_ZIP_EOCD, max(0, size - 65557))
        while pos != -1:
            comment_len = int.from_bytes(mm[pos + 20:pos + 22], "little")
            if pos + 22 + comment_len == size:
                raise _reject("polyglot_file", "图片中夹带了压缩包 (the image also contains an archive)")
            pos = mm.rfind(_ZIP_EOCD, max(0, size - 65557), pos)
        if fmt == "JPEG":
            # After the last EOI marker only padding may follow (an MPF second image ends in its own EOI)
            eoi = mm.rfind(b"\xff\xd9")
            if eoi == -1:
                raise _reject("truncated_image", "图片不完整 (the JPEG image is truncated)")
            if mm[eoi + 2:].strip(b"\x00"):
                raise _reject("trailing_data", "图片结尾后有多余数据 (unexpected data after the end of the image)")
        elif fmt == "PNG":
            if mm[size - 8:] != b"IEND\xaeB`\x82":
                raise _reject("trailing_data" if mm.rfind(b"IEND") != -1 else "truncated_image",
                              "PNG 图片结尾无效 (the PNG image does not end where it should)")
        elif fmt == "WEBP":
            declared = int.from_bytes(mm[4:8], "little") + 8
            if declared != size:
                raise _reject("truncated_image" if declared > size else "trailing_data",
                              "WebP 图片长度不符 (the WebP image length does not match the file)")


def _has_marker(mm, size: int) -> bool:
    if mm.find(b"%PDF-") != -1:
        return True
    for match in _TAG_START.finditer(mm):
        start = match.start()
        head = mm[start:start + 9].lower()
        if any(head.startswith(tag) for tag in _POLYGLOT_TAGS):
            return True
    return False


def _ensure_heif() -> None:
    from PIL import Image

    if "HEIF" not in Image.OPEN:
        import pillow_heif

        pillow_heif.register_heif_opener()


def _exif_values(im) -> tuple[int | None, datetime | None, float | None, float | None]:
    """Orientation, capture time and GPS position from EXIF; corrupt values are ignored."""
    try:
        exif = im.getexif()
    except Exception:
        return None, None, None, None
    orientation = taken = lat = lon = None
    try:
        value = exif.get(0x0112)
        if isinstance(value, int) and 1 <= value <= 8:
            orientation = value
    except Exception:
        pass
    try:
        ifd = exif.get_ifd(0x8769)
        taken = _parse_exif_time(ifd.get(0x9003) or ifd.get(0x9004) or exif.get(0x0132),
                                 ifd.get(0x9011) or ifd.get(0x9010))
    except Exception:
        taken = None
    try:
        gps = exif.get_ifd(0x8825)
        lat = _gps_degrees(gps.get(2), gps.get(1), 90)
        lon = _gps_degrees(gps.get(4), gps.get(3), 180)
        if lat is None or lon is None:
            lat = lon = None
    except Exception:
        lat = lon = None
    return orientation, taken, lat, lon


def _parse_exif_time(value, offset) -> datetime | None:
    if not isinstance(value, str):
        return None
    value = value.strip("\x00 ")
    try:
        naive = datetime.strptime(value[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    tz = DEFAULT_EXIF_TZ
    if isinstance(offset, str):
        m = re.fullmatch(r"([+-])(\d{2}):(\d{2})", offset.strip("\x00 "))
        if m:
            delta = timedelta(hours=int(m.group(2)), minutes=int(m.group(3)))
            tz = timezone(delta if m.group(1) == "+" else -delta)
    if not 1990 <= naive.year <= 2100:
        return None
    return naive.replace(tzinfo=tz).astimezone(timezone.utc)


def _gps_degrees(value, ref, limit) -> float | None:
    if value is None or len(value) != 3:
        return None
    d, m, s = (float(v) for v in value)
    deg = d + m / 60.0 + s / 3600.0
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "ignore")
    if isinstance(ref, str) and ref.strip("\x00 ").upper() in ("S", "W"):
        deg = -deg
    if not -limit <= deg <= limit or deg != deg:
        return None
    return round(deg, 7)


_TRANSPOSE = {2: "FLIP_LEFT_RIGHT", 3: "ROTATE_180", 4: "FLIP_TOP_BOTTOM", 5: "TRANSPOSE",
              6: "ROTATE_270", 7: "TRANSVERSE", 8: "ROTATE_90"}


def _orient(im, orientation):
    from PIL import Image

    method = _TRANSPOSE.get(orientation or 1)
    return im.transpose(getattr(Image.Transpose, method)) if method else im


def _to_rgb(im):
    from PIL import Image

    if im.mode in ("RGB", "L"):
        return im
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        im = im.convert("RGBA")
        background = Image.new("RGB", im.size, (255, 255, 255))
        background.paste(im, mask=im.getchannel("A"))
        return background
    return im.convert("RGB")


def _jpeg_bytes(im, icc: bytes | None) -> bytes:
    out = io.BytesIO()
    kwargs = {"quality": JPEG_QUALITY, "optimize": False}
    if icc:
        kwargs["icc_profile"] = icc
    im.save(out, "JPEG", **kwargs)
    return out.getvalue()


def _thumb_from(preview):
    """The thumb from the preview: an integer box reduction first (cheap), then a small Lanczos step."""
    from PIL import Image

    target = _fit(preview.size, THUMB_SIZE)
    if target == preview.size:
        return preview.copy()
    factor = int(max(preview.size) / THUMB_SIZE)
    image = preview.reduce(factor) if factor >= 2 else preview
    if image.size != target:
        image = image.resize(target, Image.Resampling.LANCZOS)
    return image


def _fit(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    w, h = size
    if max(w, h) <= long_side:
        return w, h
    if w >= h:
        return long_side, max(1, round(h * long_side / w))
    return max(1, round(w * long_side / h)), long_side


class _DecodeSlots:
    """At most ``limit`` image decodes at once in this process (every decode goes through inspect_image).

    A 12 MP photo costs ~115 MB decoded (HEIC ~340 MB); four threads of a gthread worker decoding at once
    took a worker near 500 MB on a field day. The slots bound a worker's peak to about one decode plus
    its baseline; a request that cannot get a slot in ``wait_seconds`` answers 503 with Retry-After (tus
    clients retry). create_app sets the limit from INSPECT_IMAGE_DECODE_CONCURRENCY (docs/photos.md).
    """

    def __init__(self, limit: int = 1, wait_seconds: float = 60.0):
        self.configure(limit, wait_seconds)

    def configure(self, limit: int, wait_seconds: float = 60.0) -> None:
        import threading

        self.limit = max(1, int(limit))
        self.wait_seconds = wait_seconds
        self._sem = threading.BoundedSemaphore(self.limit)

    def __enter__(self):
        if not self._sem.acquire(timeout=self.wait_seconds):
            from ...errors import AppError

            raise AppError("图片处理繁忙，请稍后重试 (image processing is busy; retry later)", status=503,
                           code="busy", headers={"Retry-After": "10"})
        return self

    def __exit__(self, *exc):
        self._sem.release()
        return False


DECODE_SLOTS = _DecodeSlots()


def configure_decodes(limit: int, wait_seconds: float = 60.0) -> None:
    DECODE_SLOTS.configure(limit, wait_seconds)


def inspect_image(path: str, max_pixels: int, *, derivatives: bool = True) -> ImageInfo:
    """Validate the image file at ``path`` and (by default) make its derivatives.

    Raises ImageRejected with code invalid_image / unsupported_type /
    image_too_large / truncated_image / polyglot_file / trailing_data.
    """
    from PIL import Image

    with open(path, "rb") as f:
        head = f.read(32)
    fmt = sniff_format(head)
    if fmt is None:
        raise _reject("unsupported_type", "只接受 JPEG、PNG、WebP 或 HEIC 图片 (only JPEG, PNG, WebP or HEIC images)")
    _check_polyglot(path, fmt)
    if fmt == "HEIF":
        _ensure_heif()

    with warnings.catch_warnings():
        # Pillow warns about corrupt EXIF and the like: not our concern, the values are checked.
        # A decompression bomb warning is an error: refused before decoding.
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with DECODE_SLOTS:
            return _inspect_open(path, fmt, max_pixels, derivatives)


def _inspect_open(path: str, fmt: str, max_pixels: int, derivatives: bool) -> ImageInfo:
    from PIL import Image

    try:
        im = Image.open(path, formats=[fmt])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _reject("image_too_large", "图片像素过多 (the image has too many pixels)") from exc
    except Exception as exc:
        raise _reject("invalid_image", "无法识别的图片 (the image cannot be read)") from exc
    with im:
        w, h = im.size
        if w <= 0 or h <= 0:
            raise _reject("invalid_image", "图片尺寸无效 (invalid image size)")
        if w * h > max_pixels:
            raise _reject("image_too_large",
                          f"图片像素过多 (the image has {w}×{h} pixels; the limit is {max_pixels})")
        if getattr(im, "n_frames", 1) > 1 and fmt in ("PNG", "WEBP"):
            raise _reject("invalid_image", "不接受动画图片 (animated images are not accepted)")
        orientation, taken, lat, lon = _exif_values(im)
        icc = im.info.get("icc_profile")
        display = (h, w) if orientation in (5, 6, 7, 8) else (w, h)
        info = ImageInfo(format=fmt, content_type=CONTENT_TYPES[fmt], width=display[0], height=display[1],
                         orientation=orientation, exif_taken_at=taken, exif_latitude=lat, exif_longitude=lon)
        try:
            if fmt == "JPEG":
                # Decode at the smallest DCT scale (1/2, 1/4, 1/8) that still covers the preview.
                im.draft("RGB", _fit((w, h), PREVIEW_SIZE))
            im.load()
        except Exception as exc:
            raise _reject("truncated_image" if "truncated" in str(exc).lower() else "invalid_image",
                          "图片已损坏或不完整 (the image is corrupt or truncated)") from exc
        if not derivatives:
            return info
        pixels = _to_rgb(im)
        target = _fit(pixels.size, PREVIEW_SIZE)
        if target != pixels.size:
            # BOX = area averaging: right for a downscale by < 2 after DCT scaling, and fast
            pixels = pixels.resize(target, Image.Resampling.BOX, reducing_gap=3.0)
        preview = _orient(pixels, orientation)
        thumb = _thumb_from(preview)
        info.preview = _jpeg_bytes(preview, icc)
        info.thumb = _jpeg_bytes(thumb, icc)
    return info
