"""The golden data's PNG codec: 8-bit RGB in and out with zlib and struct only (no PIL,
no torch), shared by clstyle_ref.py and the CLI tests that read PNGs in Python."""
import struct
import zlib

import numpy as np


def write_png(path, img):
    """Minimal 8-bit RGB PNG writer (zlib + struct only). img: uint8 (H,W,3)."""
    img = np.ascontiguousarray(np.asarray(img, dtype=np.uint8))
    h, w, c = img.shape
    if c != 3:
        raise ValueError("write_png wants (H,W,3)")

    def chunk(tag, body):
        return (struct.pack(">I", len(body)) + tag + body
                + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF))

    raw = b"".join(b"\x00" + img[y].tobytes() for y in range(h))  # filter 0 per row
    png = (b"\x89PNG\r\n\x1a\n"
           + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, 9))
           + chunk(b"IEND", b""))
    with open(path, "wb") as f:
        f.write(png)


def read_png(path):
    """Minimal reader for 8-bit, non-interlaced gray/RGB/RGBA PNGs -> uint8 (H,W,3)."""
    with open(path, "rb") as f:
        blob = f.read()
    if blob[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("%s: not a PNG" % path)
    pos = 8
    idat = []
    w = h = depth = ctype = interlace = None
    while pos < len(blob):
        (n,) = struct.unpack(">I", blob[pos:pos + 4])
        tag = blob[pos + 4:pos + 8]
        body = blob[pos + 8:pos + 8 + n]
        pos += 12 + n
        if tag == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif tag == b"IDAT":
            idat.append(body)
        elif tag == b"IEND":
            break
    chans = {0: 1, 2: 3, 6: 4}.get(ctype)
    if depth != 8 or chans is None or interlace != 0:
        raise ValueError("%s: only 8-bit non-interlaced gray/RGB/RGBA supported" % path)
    raw = zlib.decompress(b"".join(idat))
    stride = w * chans
    out = np.zeros((h, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.int32)
    for y in range(h):
        ft = raw[y * (stride + 1)]
        line = np.frombuffer(raw, dtype=np.uint8, count=stride, offset=y * (stride + 1) + 1).astype(np.int32)
        cur = np.zeros(stride, dtype=np.int32)
        for i in range(stride):
            a = cur[i - chans] if i >= chans else 0
            b = prev[i]
            c = prev[i - chans] if i >= chans else 0
            if ft == 0:
                pred = 0
            elif ft == 1:
                pred = a
            elif ft == 2:
                pred = b
            elif ft == 3:
                pred = (a + b) // 2
            elif ft == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if (pa <= pb and pa <= pc) else (b if pb <= pc else c)
            else:
                raise ValueError("%s: bad filter %d" % (path, ft))
            cur[i] = (line[i] + pred) & 0xFF
        out[y] = cur
        prev = cur
    img = out.reshape(h, w, chans)
    if chans == 1:
        img = np.repeat(img, 3, axis=2)
    return np.ascontiguousarray(img[:, :, :3])
