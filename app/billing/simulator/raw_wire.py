"""Answers no ASGI app can send: bytes written straight to the connection, then it is closed.

A real backend (or a proxy in front of it) can answer a bad status line, a body shorter than
its Content-Length, a chunked body cut inside a chunk, or headers and then nothing; ASGI servers
frame every answer correctly. uvicorn's `send` is a method of its per-request cycle object,
which holds the connection's transport: that private attribute is read here and nowhere else
(pyproject pins uvicorn's version range for it).
"""

from __future__ import annotations

from enum import StrEnum

from starlette.types import Send


class Framing(StrEnum):
    BAD_STATUS_LINE = "bad_status_line"
    SHORT_BODY = "short_body"
    CUT_CHUNK = "cut_chunk"
    CLOSED_AFTER_HEADERS = "closed_after_headers"


def broken_answer(framing: Framing, body: bytes) -> bytes:
    """What goes on the wire for BODY (a real answer's JSON) framed the FRAMING way."""
    headers = b"Content-Type: application/json\r\n"
    length = b"Content-Length: %d\r\n" % len(body)
    if framing is Framing.BAD_STATUS_LINE:
        return b"HTTP/1.1 two hundred OK\r\n" + headers + length + b"\r\n" + body
    head = b"HTTP/1.1 200 OK\r\n" + headers
    if framing is Framing.SHORT_BODY:
        return head + length + b"\r\n" + body[: len(body) // 2]
    if framing is Framing.CUT_CHUNK:
        chunk = b"%x\r\n" % len(body) + body[: len(body) // 2]
        return head + b"Transfer-Encoding: chunked\r\n\r\n" + chunk
    return head + length + b"\r\n"


def write_and_close(send: Send, data: bytes) -> bool:
    """Write DATA on the connection behind uvicorn's SEND and close it; False if not uvicorn's."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    # asyncio's transports and uvloop's (which do not subclass asyncio's) alike.
    if not callable(getattr(transport, "write", None)):
        return False
    assert transport is not None
    transport.write(data)
    transport.close()
    return True
