"""Just enough H.264 bitstream handling to splice re-encoded GOPs into a copied stream.

MP4 stores NAL units length-prefixed with the parameter sets (SPS/PPS) in the `avcC` box;
libx264 emits Annex B (start codes). A re-encoded range can be spliced into a copied stream
only when its SPS/PPS equal the source's, and its packets are converted to the source's
length-prefixed form.
"""

from __future__ import annotations

NAL_IDR = 5
NAL_SPS = 7
NAL_PPS = 8


def split_annexb(data: bytes) -> list[bytes]:
    """NAL units of an Annex B byte string (start codes 00 00 01 / 00 00 00 01)."""
    nals: list[bytes] = []
    pos = data.find(b"\x00\x00\x01")
    while pos != -1:
        start = pos + 3
        nxt = data.find(b"\x00\x00\x01", start)
        end = len(data) if nxt == -1 else nxt
        nal = data[start:end]
        if nxt != -1:
            nal = nal.rstrip(b"\x00")  # trailing zeros belong to the next 4-byte start code
        if nal:
            nals.append(nal)
        pos = nxt
    return nals


def annexb_to_avcc(data: bytes, length_size: int = 4) -> bytes:
    out = bytearray()
    for nal in split_annexb(data):
        out += len(nal).to_bytes(length_size, "big")
        out += nal
    return bytes(out)


def split_avcc(data: bytes, length_size: int = 4) -> list[bytes]:
    nals, pos = [], 0
    while pos + length_size <= len(data):
        n = int.from_bytes(data[pos : pos + length_size], "big")
        pos += length_size
        nals.append(data[pos : pos + n])
        pos += n
    return nals


def is_avcc_config(extradata: bytes | None) -> bool:
    return bool(extradata) and extradata[0] == 1 and len(extradata) >= 7


def avcc_length_size(extradata: bytes | None) -> int:
    return (extradata[4] & 0x03) + 1 if is_avcc_config(extradata) else 4


def parameter_sets(extradata: bytes | None) -> tuple[tuple[bytes, ...], tuple[bytes, ...]]:
    """(SPS list, PPS list) from avcC or Annex B extradata."""
    if not extradata:
        return (), ()
    if not is_avcc_config(extradata):
        nals = split_annexb(extradata)
        return (
            tuple(n for n in nals if n[0] & 0x1F == NAL_SPS),
            tuple(n for n in nals if n[0] & 0x1F == NAL_PPS),
        )
    pos = 5
    sps_count = extradata[pos] & 0x1F
    pos += 1
    sps = []
    for _ in range(sps_count):
        n = int.from_bytes(extradata[pos : pos + 2], "big")
        sps.append(extradata[pos + 2 : pos + 2 + n])
        pos += 2 + n
    pps = []
    pps_count = extradata[pos] if pos < len(extradata) else 0
    pos += 1
    for _ in range(pps_count):
        n = int.from_bytes(extradata[pos : pos + 2], "big")
        pps.append(extradata[pos + 2 : pos + 2 + n])
        pos += 2 + n
    return tuple(sps), tuple(pps)


def starts_with_idr(packet: bytes, length_size: int = 4) -> bool:
    """A keyframe that is an IDR picture: nothing after it references what came before."""
    return any(nal and nal[0] & 0x1F == NAL_IDR for nal in split_avcc(packet, length_size))
