"""Full-page PNG of an html file, rendered offline by headless Chromium (e.g. a ``newsclf report`` page).

The page is drawn in a window taller than it, then the blank space below it is cut off; if the
page fills the whole window the window is doubled and the page drawn again. Needs Debian's
``chromium`` (``/usr/bin/chromium``) and Pillow.

    python scripts/docs/screenshot.py runs/report/report.html docs/img/report.png --width 1280
    python scripts/docs/screenshot.py report.html shot.png --scale 0.75 --colors 256   # a smaller file
"""
import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
MAX_HEIGHT = 32000


def render(html: Path, png: Path, width: int, height: int) -> None:
    exe = next((shutil.which(c) for c in CHROMIUM if shutil.which(c)), None)
    if exe is None:
        sys.exit(f"no Chromium found (looked for {', '.join(CHROMIUM)}): apt-get install chromium")
    with tempfile.TemporaryDirectory() as profile:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--force-device-scale-factor=1",
               f"--user-data-dir={profile}", f"--window-size={width},{height}", f"--screenshot={png}",
               html.resolve().as_uri()]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if result.returncode or not png.is_file():
        sys.exit(f"chromium failed ({result.returncode}): {result.stderr[-2000:]}")


def content_height(image: Image.Image, margin: int = 24) -> int | None:
    """Height of the drawn page plus a margin, or None when the page reaches the bottom edge."""
    rgb = np.asarray(image.convert("RGB")).astype(int)
    ink = (np.abs(rgb - rgb[-1:, :, :]).sum(2) > 12).any(1)  # rows that differ from the bottom row's colour
    rows = np.nonzero(ink)[0]
    if len(rows) and rows[-1] >= len(ink) - margin:
        return None
    return min(len(ink), (rows[-1] if len(rows) else 0) + margin)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("html", type=Path)
    p.add_argument("png", type=Path)
    p.add_argument("--width", type=int, default=1280)
    p.add_argument("--scale", type=float, default=1.0, help="resize the image by this factor")
    p.add_argument("--colors", type=int, default=0, help="quantise to this many colours (0: keep full colour)")
    args = p.parse_args()
    if not args.html.is_file():
        sys.exit(f"not a file: {args.html}")
    height = 4000
    with tempfile.TemporaryDirectory() as tmp:
        shot = Path(tmp) / "shot.png"
        while True:
            render(args.html, shot, args.width, height)
            image = Image.open(shot)
            image.load()
            bottom = content_height(image)
            if bottom is not None or height >= MAX_HEIGHT:
                break
            height = min(2 * height, MAX_HEIGHT)
    image = image.crop((0, 0, image.width, bottom or image.height)).convert("RGB")
    if args.scale != 1:
        image = image.resize((round(image.width * args.scale), round(image.height * args.scale)), Image.LANCZOS)
    if args.colors:
        image = image.quantize(args.colors, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    args.png.parent.mkdir(parents=True, exist_ok=True)
    image.save(args.png, optimize=True)
    print(f"{args.png}: {image.width}x{image.height}, {args.png.stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main()
