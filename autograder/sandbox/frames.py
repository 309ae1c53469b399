"""The envelope both sides of the boundary speak: length-prefixed JSON frames.

What goes inside a frame is judging/protocol.py's business. This module imports the
standard library only: the jail (sandbox/jail.py) speaks it before numpy is on its path.
"""
import json
import os
import struct

HEADER = struct.Struct("<I")  # a frame: its body's length, then the body (UTF-8 JSON)


def frame(message):
    """One message as the bytes of a frame."""
    body = json.dumps(message).encode()
    return HEADER.pack(len(body)) + body


def send(fd, message):
    """Writes one frame to a file descriptor, all of it."""
    data = frame(message)
    while data:
        data = data[os.write(fd, data):]


def frames(stream):
    """The messages of a blocking byte stream, until it ends."""
    while True:
        head = stream.read(HEADER.size)
        if len(head) < HEADER.size:
            return
        (size,) = HEADER.unpack(head)
        body = b""
        while len(body) < size:
            chunk = stream.read(size - len(body))
            if not chunk:
                return
            body += chunk
        yield json.loads(body)
