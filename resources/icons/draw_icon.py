"""Draw the GenAI Lab icon (``python resources/icons/draw_icon.py``): PNG sizes and a Windows ICO.

The motif is a latent walk: a path through a soft blue-violet field with points along it,
the last one a decoded "image" (a small pixel tile). Drawn at 2048 px and downsampled for smooth edges.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

HERE = Path(__file__).resolve().parent
SIZE = 2048  # drawn large and downsampled: Pillow draws without anti-aliasing


def _gradient(size: int) -> Image.Image:
    """Diagonal indigo -> cyan gradient."""
    top_left = np.array([79, 70, 229], float)  # indigo
    bottom_right = np.array([6, 182, 212], float)  # cyan
    y, x = np.mgrid[0:size, 0:size] / (size - 1)
    t = np.clip((x + (1 - y)) / 2, 0, 1)[..., None]  # bottom-left -> top-right
    rgb = top_left * (1 - t) + bottom_right * t
    return Image.fromarray(rgb.astype(np.uint8), "RGB").convert("RGBA")


def _bezier(points, steps: int = 200):
    p0, p1, p2, p3 = (np.array(p, float) for p in points)
    t = np.linspace(0, 1, steps)[:, None]
    return (1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * p1 + 3 * (1 - t) * t**2 * p2 + t**3 * p3


def draw(size: int = SIZE) -> Image.Image:
    s = size / 1024
    margin, radius = int(64 * s), int(200 * s)
    mask = Image.new("L", (size, size), 0)
    ImageDraw.Draw(mask).rounded_rectangle((margin, margin, size - margin, size - margin),
                                           radius, fill=255)
    icon = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    # a soft drop shadow under the tile
    shadow = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    ImageDraw.Draw(shadow).rounded_rectangle(
        (margin, margin + int(16 * s), size - margin, size - margin + int(16 * s)), radius,
        fill=(15, 23, 42, 110))
    icon.alpha_composite(shadow.filter(ImageFilter.GaussianBlur(18 * s)))
    icon.paste(_gradient(size), (0, 0), mask)

    overlay = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(overlay)
    # faint concentric rings: the Gaussian prior
    cx, cy = 430 * s, 600 * s
    for r, alpha in ((330, 28), (230, 40), (130, 56)):
        d.ellipse((cx - r * s, cy - r * s, cx + r * s, cy + r * s), outline=(255, 255, 255, alpha),
                  width=int(10 * s))
    # the latent walk
    path = _bezier([(220 * s, 760 * s), (330 * s, 420 * s), (560 * s, 760 * s), (700 * s, 400 * s)],
                   steps=1500)
    half = 17 * s  # a stroke of stamped discs: Pillow's wide polylines leave pinholes at joints
    for x, y in path:
        d.ellipse((x - half, y - half, x + half, y + half), fill=(255, 255, 255, 255))
    for t, r in ((0.0, 46), (0.36, 40), (0.68, 40)):
        x, y = path[int(t * (len(path) - 1))]
        d.ellipse((x - r * s, y - r * s, x + r * s, y + r * s), fill=(255, 255, 255, 255))
    # the decoded image at the end of the walk: a 4x4 pixel tile
    tile, cells = 250 * s, 4
    x0, y0 = 640 * s, 200 * s
    d.rounded_rectangle((x0, y0, x0 + tile, y0 + tile), int(28 * s), fill=(255, 255, 255, 255))
    shades = [[0, 1, 1, 0], [1, 2, 2, 1], [1, 2, 2, 1], [0, 1, 1, 0]]
    palette = {0: (199, 210, 254), 1: (99, 102, 241), 2: (49, 46, 129)}
    pad, gap = 26 * s, 8 * s
    cell = (tile - 2 * pad - (cells - 1) * gap) / cells
    for i in range(cells):
        for j in range(cells):
            px, py = x0 + pad + j * (cell + gap), y0 + pad + i * (cell + gap)
            d.rounded_rectangle((px, py, px + cell, py + cell), int(8 * s),
                                fill=palette[shades[i][j]] + (255,))
    icon.alpha_composite(overlay)
    return icon


def main() -> None:
    master = draw(SIZE)
    for size in (512, 256, 64, 32):
        master.resize((size, size), Image.Resampling.LANCZOS).save(HERE / f"genai-lab-{size}.png",
                                                                   optimize=True)
    master.resize((256, 256), Image.Resampling.LANCZOS).save(
        HERE / "genai-lab.ico", sizes=[(16, 16), (24, 24), (32, 32), (48, 48), (64, 64),
                                       (128, 128), (256, 256)])


if __name__ == "__main__":
    main()
