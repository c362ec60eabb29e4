#!/usr/bin/env python3
"""read_ncap.py: read a netcap record file (<Type>.ncap.gz or plain <Type>.ncap).

It proves that the format needs nothing from netcap itself: the Python standard
library (gzip, json) for the container, the protobuf runtime for the messages,
and the module that `protoc --python_out=DIR netcap.proto` generates.

    read_ncap.py [--pb-dir DIR] [--records] FILE

prints one JSON object:

    {"type": "TCP", "count": N, "frames": [first 5 frame numbers],
     "header": {...}, "first": {every field of the first record}}

and with --records also "records": [every record]. Fields are named as in
netcap.proto; bytes are standard base64, enums their names, an unset message
field null, 64-bit integers plain JSON numbers.

--pb-dir names the folder holding the generated netcap_pb2.py. Without it the
module is imported from sys.path, or else generated with protoc into a
temporary folder from the netcap.proto two folders above this script.

Exit status: 0 when the file was read to a clean end; 1 when it is truncated
or corrupt (after reporting how many records were read); 2 on bad usage or a
missing protobuf module.
"""

import argparse
import base64
import gzip
import importlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import zlib

PROG = "read_ncap.py"
MAX_RECORD_SIZE = 64 << 20  # same bound as the Go reader
FRAME_FIELDS = ("FrameNumber", "FrameFirst")


class Truncated(Exception):
    """The file ends inside a length prefix or a message."""


class Corrupt(Exception):
    """The file cannot be a record file (bad gzip, absurd length...)."""


def die(code, msg):
    print(f"{PROG}: {msg}", file=sys.stderr)
    sys.exit(code)


def load_pb(pb_dir):
    """Import netcap_pb2, from pb_dir or sys.path, generating it if needed."""
    try:
        importlib.import_module("google.protobuf")
    except ImportError:
        die(2, f"the Python at {sys.executable} has no protobuf module; "
               "install Debian's python3-protobuf and run this with that python3")
    if pb_dir:
        sys.path.insert(0, pb_dir)
    try:
        return importlib.import_module("netcap_pb2")
    except ImportError as err:
        if pb_dir:
            die(2, f"cannot import netcap_pb2 ({err}); install python3-protobuf "
                   "and generate it with protoc --python_out=DIR netcap.proto")
    proto = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "netcap.proto")
    protoc = shutil.which("protoc")
    if protoc is None or not os.path.exists(proto):
        die(2, "netcap_pb2 is not importable and cannot be generated "
               "(need protoc and netcap.proto); pass --pb-dir")
    out = tempfile.mkdtemp(prefix="netcap_pb2_")
    proto_dir, proto_name = os.path.split(os.path.normpath(proto))
    subprocess.run([protoc, f"--python_out={out}", f"-I{proto_dir}", proto_name],
                   check=True, cwd=proto_dir)
    sys.path.insert(0, out)
    try:
        return importlib.import_module("netcap_pb2")
    finally:
        shutil.rmtree(out, ignore_errors=True)


def open_stream(path):
    """Open path as a byte stream, gunzipping when it starts with the gzip magic."""
    raw = open(path, "rb")
    magic = raw.read(2)
    raw.seek(0)
    if magic == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    return raw


def read_exact(stream, n):
    """Read exactly n bytes; fewer means the file was cut."""
    chunks = []
    left = n
    while left > 0:
        b = stream.read(left)
        if not b:
            raise Truncated(f"file ends {left} bytes before the end of a {n} byte message")
        chunks.append(b)
        left -= len(b)
    return b"".join(chunks)


def read_uvarint(stream):
    """Read an unsigned LEB128 varint; None at a clean end of file."""
    value = 0
    shift = 0
    for i in range(10):
        b = stream.read(1)
        if not b:
            if i == 0:
                return None
            raise Truncated("file ends inside a length prefix")
        c = b[0]
        value |= (c & 0x7F) << shift
        if c < 0x80:
            if i == 9 and c > 1:
                break
            return value
        shift += 7
    raise Corrupt("length prefix overflows 64 bits")


def next_message(stream):
    """Return the next length-delimited message's bytes, or None at the end."""
    size = read_uvarint(stream)
    if size is None:
        return None
    if size > MAX_RECORD_SIZE:
        raise Corrupt(f"record length {size} exceeds {MAX_RECORD_SIZE} bytes")
    return read_exact(stream, size)


def scalar(fd, value):
    """JSON form of one scalar value: bytes in standard base64, enums by name,
    non-finite floats as strings ("nan", "inf")."""
    if fd.type == fd.TYPE_BYTES:
        return base64.b64encode(value).decode("ascii")
    if fd.type == fd.TYPE_ENUM:
        ev = fd.enum_type.values_by_number.get(value)
        return ev.name if ev is not None else value
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def to_json(msg):
    """Every field of msg by its .proto name, zero values included; a message
    field that is not set is null, a repeated field a list."""
    out = {}
    for fd in msg.DESCRIPTOR.fields:
        value = getattr(msg, fd.name)
        entry = fd.message_type
        if entry is not None and entry.GetOptions().map_entry:
            # a map field: its values by key
            vfd = entry.fields_by_name["value"]
            if vfd.type in (vfd.TYPE_MESSAGE, vfd.TYPE_GROUP):
                out[fd.name] = {k: to_json(v) for k, v in value.items()}
            else:
                out[fd.name] = {k: scalar(vfd, v) for k, v in value.items()}
        elif fd.type in (fd.TYPE_MESSAGE, fd.TYPE_GROUP):
            if fd.label == fd.LABEL_REPEATED:
                out[fd.name] = [to_json(v) for v in value]
            else:
                out[fd.name] = to_json(value) if msg.HasField(fd.name) else None
        elif fd.label == fd.LABEL_REPEATED:
            out[fd.name] = [scalar(fd, v) for v in value]
        else:
            out[fd.name] = scalar(fd, value)
    return out


def frame_field(cls):
    names = {fd.name for fd in cls.DESCRIPTOR.fields}
    for name in FRAME_FIELDS:
        if name in names:
            return name
    return None


def new_summary():
    return {"type": None, "count": 0, "frames": [], "header": None, "first": None}


def read_file(pb, path, summary, all_records=False):
    """Read the whole file into summary; raises Truncated or Corrupt with
    summary holding what was read before the fault."""
    from google.protobuf.message import DecodeError

    stream = open_stream(path)
    try:
        data = next_message(stream)
        if data is None:
            raise Corrupt("empty file: no header")
        header = pb.Header()
        header.ParseFromString(data)
        try:
            enum_name = pb.Type.Name(header.Type)
        except ValueError:
            raise Corrupt(f"header names record type {header.Type}, which netcap.proto does not declare")
        name = enum_name[3:] if enum_name.startswith("NC_") else enum_name
        cls = getattr(pb, name, None)
        if cls is None or name in ("Header", "Batch"):
            raise Corrupt(f"header names record type {name}, which has no record message")
        summary["type"] = name
        summary["header"] = to_json(header)
        frame = frame_field(cls)
        rec = cls()
        while True:
            data = next_message(stream)
            if data is None:
                break
            rec.ParseFromString(data)
            if summary["count"] == 0:
                summary["first"] = to_json(rec)
            if all_records:
                summary["records"].append(to_json(rec))
            if frame is not None and len(summary["frames"]) < 5:
                summary["frames"].append(getattr(rec, frame))
            summary["count"] += 1
    except EOFError as err:  # gzip stream cut before its end marker
        raise Truncated(f"gzip stream is cut: {err}") from err
    except (gzip.BadGzipFile, zlib.error) as err:
        raise Corrupt(f"bad gzip stream: {err}") from err
    except DecodeError as err:
        raise Corrupt(f"message does not decode: {err}") from err
    finally:
        stream.close()


def main():
    ap = argparse.ArgumentParser(prog=PROG, description="Read a netcap record file and print a JSON summary.")
    ap.add_argument("--pb-dir", help="folder holding netcap_pb2.py generated by protoc")
    ap.add_argument("--records", action="store_true",
                    help='also print every record, as the list "records"')
    ap.add_argument("file", help="a <Type>.ncap.gz or <Type>.ncap record file")
    args = ap.parse_args()
    pb = load_pb(args.pb_dir)
    summary = new_summary()
    if args.records:
        summary["records"] = []
    try:
        read_file(pb, args.file, summary, args.records)
    except OSError as err:
        die(2, f"{args.file}: {err}")
    except (Truncated, Corrupt) as err:
        kind = "truncated" if isinstance(err, Truncated) else "corrupt"
        die(1, f"{args.file}: {kind} record file: {err} (after {summary['count']} records)")
    sys.stdout.write(json.dumps(summary, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
