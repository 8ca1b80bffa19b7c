"""A TCP port nothing listens on now, for tests that start a job store or a Redis server
(the OS picks it; a test run in parallel gets another)."""

import socket


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
