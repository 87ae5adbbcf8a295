#!/usr/bin/env python3
"""Exits 0 once a Kafka-compatible broker at HOST:PORT answers a Metadata request.

Usage: kafka_ping.py HOST:PORT [TIMEOUT_SECONDS]
Asks ApiVersions (v0) for the Metadata versions the broker serves, then sends the lowest
non-flexible one it accepts (v1..v8) and waits for the matching reply.
"""
import socket
import struct
import sys
import time


def request(sock, api_key, version, correlation, body=b""):
    client = b"kafka-ping"
    header = struct.pack(">hhih", api_key, version, correlation, len(client)) + client
    payload = header + body
    sock.sendall(struct.pack(">i", len(payload)) + payload)
    size = struct.unpack(">i", read_exactly(sock, 4))[0]
    reply = read_exactly(sock, size)
    if struct.unpack(">i", reply[:4])[0] != correlation:
        raise RuntimeError("correlation id mismatch")
    return reply[4:]


def read_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def metadata_versions(sock):
    reply = request(sock, 18, 0, 1)
    error, count = struct.unpack(">hi", reply[:6])
    if error:
        raise RuntimeError(f"ApiVersions error {error}")
    for i in range(count):
        key, low, high = struct.unpack(">hhh", reply[6 + 6 * i: 12 + 6 * i])
        if key == 3:
            return low, high
    raise RuntimeError("broker serves no Metadata API")


def ping(address):
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=2) as sock:
        low, high = metadata_versions(sock)
        version = max(low, 1)
        if version > min(high, 8):
            raise RuntimeError(f"Metadata versions {low}-{high} need flexible encoding")
        body = struct.pack(">i", -1)  # all topics
        if version >= 4:
            body += b"\x00"  # allow_auto_topic_creation = false
        request(sock, 3, version, 2, body)


def main():
    address = sys.argv[1]
    deadline = time.monotonic() + float(sys.argv[2] if len(sys.argv) > 2 else 30)
    last = None
    while time.monotonic() < deadline:
        try:
            ping(address)
            return 0
        except (OSError, RuntimeError, struct.error) as error:
            last = error
            time.sleep(0.1)
    print(f"kafka_ping: {address} did not answer a Metadata request: {last}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
