#!/usr/bin/env python3
"""Regenerates tests/fuzz/corpus_png/: tiny valid PNGs (< 1 KB each), one per flavour the
reader must handle, written with the standard library only (zlib + struct). Rows use
every filter type in turn so the fuzzer starts from inputs that reach all unfilter paths.
Usage: python3 tests/fuzz/gen_corpus_png.py [OUT_DIR]"""
import os
import struct
import sys
import zlib

ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def pack_row(samples, depth):
    """samples: flat list of integer samples -> bytes at the given bit depth."""
    if depth == 16:
        return b"".join(struct.pack(">H", s) for s in samples)
    if depth == 8:
        return bytes(samples)
    out, acc, nbits = bytearray(), 0, 0
    for s in samples:
        acc = (acc << depth) | s
        nbits += depth
        if nbits == 8:
            out.append(acc)
            acc, nbits = 0, 0
    if nbits:
        out.append(acc << (8 - nbits))
    return bytes(out)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def filter_rows(rows, bpp, first_filter=0):
    """Applies filter type (first_filter + row index) % 5 to each row."""
    out, prev = bytearray(), None
    for i, row in enumerate(rows):
        ft = (first_filter + i) % 5
        up = prev if prev is not None else bytes(len(row))
        f = bytearray()
        for x, v in enumerate(row):
            a = row[x - bpp] if x >= bpp else 0
            b = up[x]
            c = up[x - bpp] if x >= bpp else 0
            pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][ft]
            f.append((v - pred) & 0xFF)
        out.append(ft)
        out += f
        prev = row
    return bytes(out)


def encode(w, h, depth, color, pixel, interlace=False, extra=b"", idat_split=1):
    """pixel(x, y) -> tuple of samples for one pixel."""
    ch = CHANNELS[color]
    bpp = max(1, ch * depth // 8)
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    raw = b""
    for x0, y0, dx, dy in passes:
        xs, ys = range(x0, w, dx), range(y0, h, dy)
        if not xs or not ys:
            continue
        rows = [pack_row([s for x in xs for s in pixel(x, y)], depth) for y in ys]
        raw += filter_rows(rows, bpp, first_filter=y0)
    ihdr = struct.pack(">IIBBBBB", w, h, depth, color, 0, 0, 1 if interlace else 0)
    z = zlib.compress(raw, 9)
    step = -(-len(z) // idat_split)
    idats = b"".join(chunk(b"IDAT", z[i:i + step]) for i in range(0, len(z), step))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra + idats + chunk(b"IEND", b"")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus_png")
    os.makedirs(out, exist_ok=True)
    plte16 = chunk(b"PLTE", bytes(c for i in range(16) for c in (i * 17, 255 - i * 16, (i * 53) & 255)))
    files = {
        "gray1.png": encode(9, 7, 1, 0, lambda x, y: ((x + y) & 1,)),
        "gray4_trns.png": encode(6, 5, 4, 0, lambda x, y: ((x * 3 + y) & 15,),
                                 extra=chunk(b"tRNS", struct.pack(">H", 5))),
        "gray16_gama.png": encode(5, 4, 16, 0, lambda x, y: (x * 13107 + y * 7,),
                                  extra=chunk(b"gAMA", struct.pack(">I", 45455))),
        "gray_alpha8.png": encode(7, 6, 8, 4, lambda x, y: (x * 36, y * 51)),
        "palette4_trns.png": encode(8, 6, 4, 3, lambda x, y: ((x + 2 * y) & 15,),
                                    extra=plte16 + chunk(b"tRNS", bytes([0, 128, 255, 64]))),
        "palette2_interlaced.png": encode(11, 10, 2, 3, lambda x, y: ((x ^ y) & 3,), interlace=True,
                                          extra=chunk(b"PLTE", bytes([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255]))),
        "rgb8_interlaced.png": encode(10, 9, 8, 2, lambda x, y: (x * 25, y * 28, (x * y) & 255),
                                      interlace=True),
        "rgba16.png": encode(4, 4, 16, 6, lambda x, y: (x * 20000, y * 20000, 65535 - x * 300, (x + y) * 9000)),
        "rgb8_text_split.png": encode(6, 6, 8, 2, lambda x, y: (x * 40, 255 - y * 40, 128),
                                      extra=chunk(b"tEXt", b"Comment\x00clstyle fuzz seed"), idat_split=3),
        "gray_alpha16_interlaced.png": encode(9, 9, 16, 4, lambda x, y: (x * 7000, 65535 - y * 7000),
                                              interlace=True),
    }
    for name, data in files.items():
        assert len(data) < 1024, (name, len(data))
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
