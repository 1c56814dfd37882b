"""A real HTTP server on loopback for a WSGI app, run in a background thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server

# ``shutdown()`` returns only once ``serve_forever`` next looks at its flag: with socketserver's default
# of 0.5 s every test's teardown waited up to half a second. 10 ms costs ~100 idle wake-ups a second.
POLL_INTERVAL = 0.01


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve ``app`` on a free port; yield its base URL (``http://127.0.0.1:PORT``)."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, args=(POLL_INTERVAL,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
