"""Image validation on the hostile corpus, EXIF reading, derivatives (services/images.py)."""
from __future__ import annotations

import io
import time

import pytest
from PIL import Image, ImageFile

from inspect_api.services.evidence.images import ImageRejected, inspect_image

from . import imagegen

LIMIT = 60_000_000


def write(tmp_path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def refused(tmp_path, data: bytes, name: str = "photo.jpg", limit: int = LIMIT) -> str:
    with pytest.raises(ImageRejected) as info:
        inspect_image(write(tmp_path, name, data), limit)
    assert info.value.status == 422
    return info.value.code


@pytest.fixture()
def no_decoding(monkeypatch):
    """Fail the test if any pixel data is decoded."""

    def load(self):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)


def test_png_bomb_of_40000_squared_pixels_is_refused_from_its_header(tmp_path, no_decoding):
    path = write(tmp_path, "bomb.png", imagegen.png_bomb(40000, 40000))
    started = time.perf_counter()
    with pytest.raises(ImageRejected) as info:
        inspect_image(path, LIMIT)
    elapsed = time.perf_counter() - started
    assert info.value.code == "image_too_large"
    assert elapsed < 0.5  # header only (≈1 ms here); a decode would take minutes and 1.6 GB


def test_jpeg_whose_header_claims_60000_squared_pixels_is_refused_without_decoding(tmp_path, no_decoding):
    assert refused(tmp_path, imagegen.jpeg_header_bomb(60000, 60000)) == "image_too_large"


def test_image_just_over_the_configured_pixel_limit_is_refused(tmp_path, no_decoding):
    data = imagegen.jpeg_bytes(200, 100)
    assert refused(tmp_path, data, limit=200 * 100 - 1) == "image_too_large"


def test_truncated_jpeg_is_refused(tmp_path):
    data = imagegen.jpeg_bytes(800, 600)
    assert refused(tmp_path, data[: len(data) * 6 // 10]) in ("truncated_image", "trailing_data")


def test_truncated_png_is_refused(tmp_path):
    data = imagegen.png_bytes()
    assert refused(tmp_path, data[: len(data) // 2], "p.png") in ("truncated_image", "trailing_data")


def test_jpeg_cut_just_before_its_end_marker_is_refused(tmp_path):
    data = imagegen.jpeg_bytes(400, 300)
    assert refused(tmp_path, data[:-2]) == "truncated_image"


@pytest.mark.parametrize("make", [imagegen.pdf_bytes, imagegen.exe_bytes, imagegen.zip_bytes,
                                  lambda: b"<svg xmlns='http://www.w3.org/2000/svg'>"
                                          b"<script>alert(1)</script></svg>",
                                  lambda: b"GIF89a" + b"\x00" * 100, lambda: b""],
                         ids=["pdf", "exe", "zip", "svg", "gif", "empty"])
def test_other_files_renamed_jpg_are_refused(tmp_path, make):
    assert refused(tmp_path, make()) in ("unsupported_type", "invalid_image")


def test_jpeg_with_a_zip_appended_is_a_refused_polyglot(tmp_path):
    assert refused(tmp_path, imagegen.jpeg_bytes(300, 200) + imagegen.zip_bytes()) == "polyglot_file"


def test_jpeg_with_a_pdf_appended_is_a_refused_polyglot(tmp_path):
    assert refused(tmp_path, imagegen.jpeg_bytes(300, 200) + imagegen.pdf_bytes()) == "polyglot_file"


def test_jpeg_hiding_html_in_a_comment_segment_is_a_refused_polyglot(tmp_path):
    data = imagegen.jpeg_bytes(300, 200)
    payload = b"<html><script>fetch('/api/v1/users')</script></html>"
    comment = b"\xff\xfe" + (len(payload) + 2).to_bytes(2, "big") + payload
    polyglot = data[:2] + comment + data[2:]
    Image.open(io.BytesIO(polyglot)).load()  # Pillow alone would accept it
    assert refused(tmp_path, polyglot) == "polyglot_file"


def test_png_hiding_a_php_script_in_a_text_chunk_is_refused(tmp_path):
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", "<?php system($_GET['c']); ?>")
    out = io.BytesIO()
    imagegen.photo_like(100, 80).save(out, "PNG", pnginfo=info)
    assert refused(tmp_path, out.getvalue(), "x.png") == "polyglot_file"


def test_jpeg_with_trailing_garbage_is_refused(tmp_path):
    assert refused(tmp_path, imagegen.jpeg_bytes(300, 200) + b"\x13\x37" * 500) == "trailing_data"


def test_jpeg_with_a_corrupt_frame_header_is_refused(tmp_path):
    data = bytearray(imagegen.jpeg_bytes(300, 200, exif=b""))
    sof = data.find(b"\xff\xc0")
    data[sof + 4:sof + 10] = b"\x00" * 6  # zero size, zero components
    assert refused(tmp_path, bytes(data)) == "invalid_image"


def test_corrupt_exif_is_ignored_and_the_photo_is_kept(tmp_path):
    garbage_exif = b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\xff\xff" + b"\xde\xad\xbe\xef" * 40
    data = imagegen.jpeg_bytes(640, 480, exif=garbage_exif)
    info = inspect_image(write(tmp_path, "c.jpg", data), LIMIT)
    assert (info.width, info.height) == (640, 480)
    assert info.exif_taken_at is None and info.exif_latitude is None and info.orientation is None


def test_impossible_exif_values_are_dropped(tmp_path):
    data = imagegen.jpeg_bytes(320, 240, taken="0000:00:00 00:00:00", lat=(200, 0, 0), orientation=42)
    info = inspect_image(write(tmp_path, "v.jpg", data), LIMIT)
    assert info.exif_taken_at is None
    assert info.exif_latitude is None and info.exif_longitude is None
    assert info.orientation is None


def test_southern_western_gps_is_negative(tmp_path):
    data = imagegen.jpeg_bytes(320, 240, lat=(33, 30, 0), lat_ref="S", lon=(70, 15, 0), lon_ref="W")
    info = inspect_image(write(tmp_path, "g.jpg", data), LIMIT)
    assert info.exif_latitude == -33.5 and info.exif_longitude == -70.25


@pytest.mark.parametrize("make,fmt,content_type", [
    (imagegen.png_bytes, "PNG", "image/png"), (imagegen.webp_bytes, "WEBP", "image/webp"),
    (imagegen.heic_bytes, "HEIF", "image/heic")])
def test_png_webp_and_heic_are_accepted(tmp_path, make, fmt, content_type):
    info = inspect_image(write(tmp_path, "img", make()), LIMIT)
    assert info.format == fmt and info.content_type == content_type
    assert Image.open(io.BytesIO(info.preview)).format == "JPEG"


def test_derivatives_are_rotated_jpegs_of_1280_and_256_without_any_metadata(tmp_path):
    # orientation 6: the camera was turned; the red box (top-left as stored) is top-right as seen
    data = imagegen.jpeg_bytes(1600, 1200, orientation=6, serial="SN-98765")
    info = inspect_image(write(tmp_path, "r.jpg", data), LIMIT)
    preview = Image.open(io.BytesIO(info.preview))
    thumb = Image.open(io.BytesIO(info.thumb))
    assert preview.format == thumb.format == "JPEG"
    assert preview.size == (960, 1280)
    assert thumb.size == (192, 256)
    red = preview.convert("RGB").getpixel((int(960 * 0.8), int(1280 * 0.2)))
    assert red[0] > 150 and red[1] < 90, red
    for blob in (info.preview, info.thumb):
        image = Image.open(io.BytesIO(blob))
        assert not image.getexif()
        assert b"SN-98765" not in blob and b"TestCam" not in blob and b"Exif" not in blob


def test_small_photo_is_not_upscaled(tmp_path):
    info = inspect_image(write(tmp_path, "s.jpg", imagegen.jpeg_bytes(200, 150)), LIMIT)
    assert Image.open(io.BytesIO(info.preview)).size == (200, 150)
    assert Image.open(io.BytesIO(info.thumb)).size == (200, 150)


def test_twelve_megapixel_jpeg_is_decoded_at_a_reduced_dct_scale(tmp_path, monkeypatch):
    from PIL import JpegImagePlugin

    sizes = []
    original = JpegImagePlugin.JpegImageFile.load

    def spy(self):
        result = original(self)
        sizes.append(self.size)
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "load", spy)
    info = inspect_image(write(tmp_path, "big.jpg", imagegen.jpeg_bytes(4000, 3000, quality=80)), LIMIT)
    assert (info.width, info.height) == (4000, 3000)
    assert sizes and sizes[0] == (2000, 1500)  # 1/2 scale: the smallest that still covers 1280
    assert Image.open(io.BytesIO(info.preview)).size == (1280, 960)


def test_image_decodes_are_bounded_per_process(tmp_path):
    """INSPECT_IMAGE_DECODE_CONCURRENCY: never more decodes at once than the limit (issue #19 item 11)."""
    import threading
    import time

    from inspect_api.services.evidence import images

    from .imagegen import jpeg_bytes

    path = tmp_path / "p.jpg"
    path.write_bytes(jpeg_bytes(1200, 900, seed=3))
    inner, state, lock = images._inspect_open, {"now": 0, "peak": 0}, threading.Lock()

    def counting(*args, **kw):
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        time.sleep(0.05)
        try:
            return inner(*args, **kw)
        finally:
            with lock:
                state["now"] -= 1

    old_limit = images.DECODE_SLOTS.limit
    images._inspect_open = counting
    try:
        for limit in (1, 2):
            images.configure_decodes(limit)
            state["peak"] = 0
            threads = [threading.Thread(target=images.inspect_image, args=(str(path), 60_000_000))
                       for _ in range(6)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert state["peak"] == limit
    finally:
        images._inspect_open = inner
        images.configure_decodes(old_limit)
