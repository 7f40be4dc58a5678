"""moto's server, answering one request at a time (the end-to-end tests start it; tests/src/harness.rs).

DynamoDB applies a conditional write atomically: of two claims of one message at the same moment,
one wins. moto's threaded server checks a condition and then writes, in two steps, and two of its
threads can both pass the check: seen on 2 Dec 2026, when the test of two workers racing on every
batch sent one text twice on a loaded machine, because both workers' claims succeeded. A lock
around each request gives the tests the atomic store AWS gives the functions. The server stays
threaded, so a client's idle keep-alive connection does not block the others.

Two more changes make it about a third faster (measured on 2 Dec 2026; README "Test"), without
changing what it answers:
- connections are kept open for the client's next request. Werkzeug's development server closes
  every connection after one answer, because Python's http.server cannot skip an unread request
  body; here every body is read whole before the app sees it, so the next request starts where
  this one ended (and werkzeug's own draining of what is left unread, which would read into the
  next request, finds nothing). Before, every request opened a TCP connection and started a thread, and the
  SDK's client looked the address up in a thread of its own: about 120 new connections a second;
- a line of log a request (written to nowhere) and moto's listing of its own folders to find a
  request's service are skipped: the list of folders is read once.

Usage: python moto_server.py -H HOST -p PORT
"""

import argparse
import inspect
import io
import os
import selectors
import threading
import types

import moto.backends
import werkzeug.serving
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


def one_at_a_time(app):
    lock = threading.Lock()

    def serve(environ, start_response):
        # The body is read whole here, outside the lock, so the connection is left at the next
        # request's first line whatever the app reads of it.
        environ["wsgi.input"] = io.BytesIO(read_body(environ))
        with lock:
            # The whole answer is made under the lock (a lazy body would run after it), and the
            # app's answer closed, as a WSGI server would close it.
            body = app(environ, start_response)
            try:
                return list(body)
            finally:
                if hasattr(body, "close"):
                    body.close()

    return serve


def read_body(environ):
    stream = environ["wsgi.input"]
    if environ.get("wsgi.input_terminated"):
        return stream.read()  # chunked: werkzeug's reader ends at the last chunk
    left = int(environ.get("CONTENT_LENGTH") or 0)
    parts = []
    while left > 0:
        part = stream.read(left)
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


class NothingLeft:
    """What werkzeug's draining after an answer finds: nothing (`one_at_a_time` read the body)."""

    def register(self, *args, **kwargs):
        pass

    def select(self, timeout=None):
        return []

    def close(self):
        pass


def keep_alive_possible():
    """Whether this werkzeug drains the way `NothingLeft` answers (otherwise connections close)."""
    source = inspect.getsource(werkzeug.serving.WSGIRequestHandler.run_wsgi)
    return "selectors.DefaultSelector()" in source and source.count("selector.select(") == 1


class KeepAlive(MotoRequestHandler):
    """Keeps the connection for the next request (every body is read whole by `one_at_a_time`).

    An answer's headers and body are sent apart; on a connection kept open, Nagle's algorithm
    would hold the body until the client acknowledged the headers, 40 ms later."""

    disable_nagle_algorithm = True

    def send_header(self, keyword, value):
        if keyword.lower() == "connection" and value.lower() == "close":
            return
        super().send_header(keyword, value)

    def log_request(self, code="-", size="-"):
        pass


def main():
    parser = argparse.ArgumentParser(description="moto's server, one request at a time")
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()
    # (moto writes this port into the URLs it answers with, such as a queue's.)
    os.environ.setdefault("MOTO_PORT", str(args.port))
    modules = tuple(moto.backends.list_of_moto_modules())
    moto.backends.list_of_moto_modules = lambda: modules
    app = DomainDispatcherApplication(create_backend_app)
    handler = KeepAlive
    if keep_alive_possible():
        werkzeug.serving.selectors = types.SimpleNamespace(DefaultSelector=NothingLeft, EVENT_READ=selectors.EVENT_READ)
    else:
        handler = type("Quiet", (MotoRequestHandler,), {"log_request": KeepAlive.log_request})
    run_simple(args.host, args.port, one_at_a_time(app), threaded=True, request_handler=handler)


if __name__ == "__main__":
    main()
