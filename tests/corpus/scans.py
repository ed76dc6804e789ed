"""Scans of the generator's text-layer PDFs: the pages rasterised and damaged as a scanner
or a phone leaves them, then wrapped into an image-only PDF (or a JPEG of one page).

Conditions (issue 13): `clean` (grey paper only), `office` (150–300 dpi, 0.5–1.5° skew,
mild blur, speckle, JPEG 55–85, a red seal over the signature), `photo` (perspective,
uneven light, JPEG).
"""

from __future__ import annotations

import io
import random

import cv2
import numpy as np
import pypdfium2 as pdfium
from PIL import Image

CONDITIONS = ("clean", "office", "photo")


def page_images(pdf: bytes, dpi: int) -> list[Image.Image]:
    document = pdfium.PdfDocument(pdf)
    try:
        return [page.render(scale=dpi / 72, grayscale=True).to_pil().convert("L") for page in document]
    finally:
        document.close()


def scanned_pdf(pdf: bytes, condition: str, seed: int) -> bytes:
    """The PDF as an image-only PDF of its damaged pages."""
    rng = random.Random(seed)
    dpi = {"clean": 200, "office": rng.choice((150, 200, 300)), "photo": 200}[condition]
    pages = [damage(image, condition, rng, seal=index == 0) for index, image in enumerate(page_images(pdf, dpi))]
    buffer = io.BytesIO()
    pages[0].save(buffer, format="PDF", save_all=True, append_images=pages[1:], resolution=dpi)
    return buffer.getvalue()


def damage(image: Image.Image, condition: str, rng: random.Random, *, seal: bool = False) -> Image.Image:
    gray = 235 * (np.asarray(image, dtype=np.float64) / 255) + rng.uniform(0, 12)  # grey paper
    rgb: np.ndarray = np.dstack([gray, gray, gray])
    if seal and condition != "clean":
        rgb = _red_seal(rgb, rng)
    if condition == "office":
        rgb = _rotate(rgb, rng.uniform(0.5, 1.5) * rng.choice((-1, 1)))
        rgb = cv2.GaussianBlur(rgb, (0, 0), rng.uniform(0.3, 0.7))
        rgb = _speckle(rgb, rng, share=0.0015)
    elif condition == "photo":
        rgb = _perspective(rgb, rng)
        rgb = _uneven_light(rgb, rng)
        rgb = cv2.GaussianBlur(rgb, (0, 0), 0.5)
    out = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")
    if condition == "clean":
        return out
    buffer = io.BytesIO()
    out.save(buffer, format="JPEG", quality=rng.randint(55, 85))
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def _rotate(rgb: np.ndarray, degrees: float) -> np.ndarray:
    height, width = rgb.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    return cv2.warpAffine(rgb, matrix, (width, height), borderValue=(235, 235, 235))


def _speckle(rgb: np.ndarray, rng: random.Random, share: float) -> np.ndarray:
    generator = np.random.default_rng(rng.randint(0, 2**31))
    mask = generator.random(rgb.shape[:2]) < share
    out = rgb.copy()
    out[mask] = 40
    return out


def _red_seal(rgb: np.ndarray, rng: random.Random) -> np.ndarray:
    """A red ring with a star near the top right, as the seal over a signature."""
    height, width = rgb.shape[:2]
    center = (int(width * rng.uniform(0.62, 0.78)), int(height * rng.uniform(0.08, 0.16)))
    radius = int(width * 0.09)
    seal = rgb.copy()
    cv2.circle(seal, center, radius, (210, 40, 40), thickness=max(3, radius // 14))
    cv2.circle(seal, center, radius // 4, (210, 40, 40), thickness=-1)
    # Ink is translucent: the text under the seal stays readable.
    return np.minimum(rgb, 0.55 * rgb + 0.45 * seal)


def _perspective(rgb: np.ndarray, rng: random.Random) -> np.ndarray:
    height, width = rgb.shape[:2]
    shift = [rng.uniform(0.01, 0.035) * width for _ in range(8)]
    source = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    target = np.array(
        [
            [shift[0], shift[1]],
            [width - shift[2], shift[3]],
            [width - shift[4], height - shift[5]],
            [shift[6], height - shift[7]],
        ],
        dtype=np.float32,
    )
    matrix = cv2.getPerspectiveTransform(source, target)
    return cv2.warpPerspective(rgb, matrix, (width, height), borderValue=(90, 90, 90))


def _uneven_light(rgb: np.ndarray, rng: random.Random) -> np.ndarray:
    height, width = rgb.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    cx, cy = rng.uniform(0, width), rng.uniform(0, height)
    distance = np.sqrt((xs - cx) ** 2 + (ys - cy) ** 2) / max(width, height)
    light = 1.0 - 0.25 * distance
    return rgb * light[..., None]
