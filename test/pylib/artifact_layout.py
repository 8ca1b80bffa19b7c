"""Where the weight shards of a .parc artifact lie, for tests that corrupt them.

The artifact is a 32-byte header, a protobuf Manifest and a data region (docs/artifact.md).
This reads the header with struct and the manifest's weight shards with a minimal decoder of
protobuf's wire format (the fields of runtime/schema/artifact.proto it needs), so that tests
need no generated Python classes.
"""

import struct

MAGIC = b"PARCART\n"
DTYPES = {0: "f32", 1: "f16", 2: "bf16", 3: "i64", 4: "i32", 5: "bool"}


def _varint(data, pos):
    value, shift = 0, 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _fields(data):
    """(field number, wire type, value) of each field of one message."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 1:
            value, pos = data[pos:pos + 8], pos + 8
        elif wire == 2:
            length, pos = _varint(data, pos)
            value, pos = data[pos:pos + length], pos + length
        elif wire == 5:
            value, pos = data[pos:pos + 4], pos + 4
        else:
            raise ValueError("unexpected wire type %d" % wire)
        yield number, wire, value


def weight_shards(path):
    """The data region's offset in the file, and each weight shard as a dict: name, dtype,
    offset (in the data region), size, random (stored without bytes)."""
    with open(path, "rb") as f:
        blob = f.read()
    if blob[:8] != MAGIC:
        raise ValueError("%s is not a parc artifact" % path)
    _, _, manifest_size, data_offset = struct.unpack_from("<IIQQ", blob, 8)
    manifest = blob[32:32 + manifest_size]
    shards = []
    for number, _, value in _fields(manifest):
        if number != 8:  # Manifest.weights
            continue
        shard = {"name": "", "dtype": "f32", "offset": 0, "size": 0, "random": False}
        for field, _, item in _fields(value):
            if field == 1:
                shard["name"] = item.decode()
            elif field == 2:
                for type_field, _, type_value in _fields(item):
                    if type_field == 1:
                        shard["dtype"] = DTYPES[type_value]
            elif field == 3:
                shard["offset"] = item
            elif field == 4:
                shard["size"] = item
            elif field == 6:
                shard["random"] = bool(item)
        shards.append(shard)
    return data_offset, shards
