"""Test images made on the fly: photo-like JPEGs with EXIF, and a corpus of hostile files."""
from __future__ import annotations

import io
import struct
import zlib
from datetime import datetime

from PIL import Image, ImageDraw


def photo_like(width: int, height: int, seed: int = 0) -> Image.Image:
    """An image that compresses like a photo (gradients, shapes, noise), not like flat colour."""
    base = Image.merge("RGB", [
        Image.linear_gradient("L").resize((width, height)),
        Image.radial_gradient("L").resize((width, height)),
        Image.effect_noise((width, height), 40 + seed % 20).convert("L"),
    ])
    draw = ImageDraw.Draw(base)
    step = max(8, width // 24)
    for i in range(0, width, step):
        draw.line([(i, 0), (width - i, height)], fill=((i * 7 + seed) % 256, (i * 3) % 256, 90), width=3)
    draw.rectangle([width // 10, height // 10, width // 3, height // 3], fill=(200, 30, 30))
    return base


def exif_bytes(*, taken: str | None = "2026:11:30 14:05:09", offset: str | None = "+08:00",
               lat: tuple | None = (37, 44, 21.6), lat_ref: str = "N",
               lon: tuple | None = (115, 40, 12.0), lon_ref: str = "E", orientation: int | None = 1,
               make: str = "TestCam", serial: str | None = "SN-12345") -> bytes:
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    exif[0x010F] = make
    if serial:
        exif[0xA431] = serial  # BodySerialNumber: personal/device data that derivatives must not carry
    if taken is not None:
        ifd = exif.get_ifd(0x8769)
        ifd[0x9003] = taken
        if offset:
            ifd[0x9011] = offset
    if lat is not None and lon is not None:
        gps = exif.get_ifd(0x8825)
        gps[1] = lat_ref
        gps[2] = tuple(float(v) for v in lat)
        gps[3] = lon_ref
        gps[4] = tuple(float(v) for v in lon)
    return exif.tobytes()


def jpeg_bytes(width: int = 800, height: int = 600, *, seed: int = 0, quality: int = 88,
               exif: bytes | None = None,
               **exif_kw) -> bytes:
    im = photo_like(width, height, seed)
    out = io.BytesIO()
    im.save(out, "JPEG", quality=quality, exif=exif if exif is not None else exif_bytes(**exif_kw))
    return out.getvalue()


def png_bytes(width: int = 300, height: int = 200) -> bytes:
    out = io.BytesIO()
    photo_like(width, height).save(out, "PNG")
    return out.getvalue()


def webp_bytes(width: int = 300, height: int = 200) -> bytes:
    out = io.BytesIO()
    photo_like(width, height).save(out, "WEBP", quality=80)
    return out.getvalue()


def heic_bytes(width: int = 320, height: int = 240) -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    photo_like(width, height).save(out, "HEIF", quality=70)
    return out.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_bomb(width: int = 40000, height: int = 40000) -> bytes:
    """A PNG whose header claims width×height pixels: 1.6 G pixels of 0s compress to ~a few MB.

    The IDAT here holds only a little data (enough for a decoder to start): the file is
    refused from its header alone, before any pixel is decoded.
    """
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    row = b"\x00" + b"\x00" * width
    compressor = zlib.compressobj(9)
    idat = compressor.compress(row * 64) + compressor.flush()
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat)
            + _png_chunk(b"IEND", b""))


def jpeg_header_bomb(width: int = 60000, height: int = 60000) -> bytes:
    """A small JPEG whose SOF0 frame header is patched to claim a huge size."""
    data = bytearray(jpeg_bytes(64, 64, exif=b""))
    i = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, i + 5, height, width)
    return bytes(data)


def pdf_bytes() -> bytes:
    return (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
            b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")


def exe_bytes() -> bytes:
    return (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48
            + b"PE\x00\x00" + b"\x00" * 200)


def zip_bytes() -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("evil.class", b"\xca\xfe\xba\xbe payload")
    return out.getvalue()


def taken_local(s: str) -> datetime:
    return datetime.strptime(s, "%Y:%m:%d %H:%M:%S")
