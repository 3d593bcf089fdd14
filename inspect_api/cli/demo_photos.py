"""Small, real JPEG photos for the demo: a plant scene drawn with Pillow (tank, pipe rack, sign), with a
caption and the time burnt in, as a site camera would. Deterministic for a given seed; ~15 KB each."""
from __future__ import annotations

import io
import os
import random

from PIL import Image, ImageDraw, ImageFont

SIZE = (480, 360)
FONT_PATHS = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc")


def _font(size: int):
    for path in FONT_PATHS:
        if os.path.exists(path):
            return ImageFont.truetype(path, size)
    return ImageFont.load_default()


def scene_jpeg(caption: str, stamp: str, seed: int, fixed: bool = False) -> bytes:
    """A plant scene; ``fixed`` draws it tidy (a fix's "after" photo), otherwise with the defect marked."""
    rnd = random.Random(seed)
    w, h = SIZE
    im = Image.new("RGB", SIZE, (150 + rnd.randint(0, 40), 180 + rnd.randint(0, 30), 210))
    d = ImageDraw.Draw(im)
    ground = int(h * 0.62)
    d.rectangle([0, ground, w, h], fill=(120 + rnd.randint(0, 30), 115, 105))
    # storage tanks
    for i in range(rnd.randint(1, 3)):
        x = 30 + i * 150 + rnd.randint(0, 30)
        tw, th = rnd.randint(80, 120), rnd.randint(90, 140)
        d.rectangle([x, ground - th, x + tw, ground], fill=(228, 228, 222), outline=(90, 90, 90), width=2)
        d.ellipse([x, ground - th - 14, x + tw, ground - th + 14], fill=(236, 236, 230), outline=(90, 90, 90))
        d.line([x + 8, ground - th // 2, x + tw - 8, ground - th // 2], fill=(200, 60, 40), width=4)
    # pipe rack
    y = ground - 40
    d.rectangle([0, y, w, y + 8], fill=(95, 105, 120))
    for x in range(20, w, 90):
        d.rectangle([x, y, x + 6, ground], fill=(80, 85, 95))
    # the finding: a red ring (defect) or a green tick (fixed)
    cx, cy = rnd.randint(120, w - 120), rnd.randint(ground - 110, ground - 20)
    if fixed:
        d.line([cx - 22, cy, cx - 6, cy + 18, cx + 26, cy - 20], fill=(30, 150, 60), width=7)
    else:
        d.ellipse([cx - 34, cy - 34, cx + 34, cy + 34], outline=(220, 30, 30), width=5)
    # caption bar
    d.rectangle([0, h - 46, w, h], fill=(0, 0, 0))
    d.text((10, h - 42), caption[:26], fill=(255, 255, 255), font=_font(17))
    d.text((10, h - 20), stamp, fill=(255, 214, 0), font=_font(13))
    out = io.BytesIO()
    im.save(out, "JPEG", quality=78, optimize=True)
    return out.getvalue()
