"""DER (ASN.1's distinguished encoding), read one element at a time: enough for the RFC 3161
timestamp tokens of the audit anchors and the TNAuthList of STIR/SHAKEN certificates, where
a library would parse far more than either needs."""

from __future__ import annotations


def read(data: bytes, pos: int = 0) -> tuple[int, bytes, int]:
    """The element at `pos`: (tag, content, position after it). Lengths of up to four bytes;
    ValueError on a longer or malformed length and on an element that runs past the end."""
    if pos + 2 > len(data):
        raise ValueError("truncated DER")
    tag, first = data[pos], data[pos + 1]
    pos += 2
    if first & 0x80:
        count = first & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise ValueError("unsupported DER length")
        size = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    else:
        size = first
    if pos + size > len(data):
        raise ValueError("truncated DER")
    return tag, data[pos : pos + size], pos + size
