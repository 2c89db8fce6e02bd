"""Damage files the way a bad disk or copy does."""
import zipfile


def flip_a_weight_byte(path):
    """Flip one byte inside the stored tensor data."""
    with zipfile.ZipFile(path) as archive:
        info = next(i for i in archive.infolist() if '/data/' in i.filename)
    data = bytearray(path.read_bytes())
    # The record's data follows its local header (30 bytes + name + extra).
    start = info.header_offset + 30 + len(info.filename.encode()) + \
        int.from_bytes(data[info.header_offset + 28:
                            info.header_offset + 30], 'little')
    data[start + 100] ^= 0xFF
    path.write_bytes(bytes(data))
