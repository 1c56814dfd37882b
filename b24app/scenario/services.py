"""Redis for the demo and the scenario runner: ``B24APP_REDIS_URL``, else a private ``redis-server``.

Both tools flush their database between runs, so a configured Redis is used only when its database
is empty (a database with data in it is refused with a message saying what to do instead).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis

INSTALL_HINT = (
    "Redis is needed: set B24APP_REDIS_URL=redis://127.0.0.1:6379/15 (an empty database), "
    "or install redis-server so a private one can be started (Debian/Ubuntu: apt-get install redis-server)"
)


class RedisUnavailable(RuntimeError):
    """No usable Redis; the message says how to get one."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def private_redis_server() -> Iterator[str]:
    """A throwaway redis-server on a free loopback port (no persistence); yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RedisUnavailable(INSTALL_HINT)
    with tempfile.TemporaryDirectory(prefix="b24app-redis-") as folder:
        port = free_port()
        args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", folder, "--protected-mode", "yes"]
        # its own session: a Ctrl+C in the terminal stops the tool, which then stops this server
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        url = f"redis://127.0.0.1:{port}/0"
        try:
            _wait_for(url, process)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


@contextmanager
def redis_for_tools(env_url: str | None = None) -> Iterator[str]:
    """``env_url`` (default ``B24APP_REDIS_URL``) when it is reachable and empty, else a private server."""
    url = env_url if env_url is not None else os.environ.get("B24APP_REDIS_URL")
    if url:
        check_empty(url)
        yield url
        return
    with private_redis_server() as private:
        yield private


def check_empty(url: str) -> None:
    conn = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        keys = conn.dbsize()
    except (redis.RedisError, OSError) as exc:
        raise RedisUnavailable(f"cannot reach Redis at B24APP_REDIS_URL ({type(exc).__name__}). "
                               + INSTALL_HINT) from None
    finally:
        conn.close()
    if keys:
        raise RedisUnavailable(
            f"the Redis database in B24APP_REDIS_URL holds {keys} keys; the demo and scenarios flush their "
            "database, so give them an empty one (e.g. redis://127.0.0.1:6379/15) or unset B24APP_REDIS_URL "
            "to use a private redis-server"
        )


def _wait_for(url: str, process: subprocess.Popen[bytes]) -> None:
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    try:
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    raise RedisUnavailable("redis-server did not start; " + INSTALL_HINT) from None
                time.sleep(0.02)
    finally:
        client.close()
