"""The HTTP plumbing both bundled servers share: loopback only, threaded, quiet about dropped clients."""

from __future__ import annotations

import sys
import threading
from http.server import ThreadingHTTPServer
from typing import Any


class LoopbackHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up (a test's dropped connection, a cancelled upload) is no server error."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def serve_in_thread(httpd: ThreadingHTTPServer, name: str) -> threading.Thread:
    """Serve in a daemon thread; a short poll interval makes ``shutdown()`` quick."""
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, name=name, daemon=True)
    thread.start()
    return thread
