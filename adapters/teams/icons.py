"""The app package's icons, drawn in code (no binary files in the repository, no imaging library).

Two buddies side by side: a 192x192 colour icon on the accent colour, and the 32x32 outline icon
Teams requires (white on transparent).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable

RGBA = tuple[int, int, int, int]


def png(width: int, height: int, pixel: Callable[[int, int], bytes | tuple[int, ...]]) -> bytes:
    """Encode an RGBA image; ``pixel(x, y)`` gives each pixel's colour."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter type: none
        for x in range(width):
            rows.extend(pixel(x, y))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


def _buddies(x: float, y: float) -> bool:
    """Two heads and shoulders in a unit square."""
    for cx in (0.34, 0.66):
        if (x - cx) ** 2 + (y - 0.38) ** 2 <= 0.11**2:
            return True
        if y >= 0.56 and (x - cx) ** 2 / 0.17**2 + (y - 0.78) ** 2 / 0.2**2 <= 1 and y <= 0.8:
            return True
    return False


def hex_rgb(color: str) -> tuple[int, int, int]:
    color = color.lstrip("#")
    return int(color[0:2], 16), int(color[2:4], 16), int(color[4:6], 16)


def color_icon(accent: str = "#005EB8", size: int = 192) -> bytes:
    r, g, b = hex_rgb(accent)

    def pixel(x: int, y: int) -> RGBA:
        u, v = (x + 0.5) / size, (y + 0.5) / size
        return (255, 255, 255, 255) if _buddies(u, v) else (r, g, b, 255)

    return png(size, size, pixel)


def outline_icon(size: int = 32) -> bytes:
    def pixel(x: int, y: int) -> RGBA:
        u, v = (x + 0.5) / size, (y + 0.5) / size
        return (255, 255, 255, 255) if _buddies(u, v) else (0, 0, 0, 0)

    return png(size, size, pixel)
