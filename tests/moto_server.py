"""moto's server, answering one request at a time (the end-to-end tests start it; tests/src/harness.rs).

DynamoDB applies a conditional write atomically: of two claims of one message at the same moment,
one wins. moto's threaded server checks a condition and then writes, in two steps, and two of its
threads can both pass the check: seen on 2 Dec 2026, when the test of two workers racing on every
batch sent one text twice on a loaded machine, because both workers' claims succeeded. A lock
around each request gives the tests the atomic store AWS gives the functions. The server stays
threaded, so a client's idle keep-alive connection does not block the others.

Usage: python moto_server.py -H HOST -p PORT
"""

import argparse
import os
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


def one_at_a_time(app):
    lock = threading.Lock()

    def serve(environ, start_response):
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


def main():
    parser = argparse.ArgumentParser(description="moto's server, one request at a time")
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()
    # (moto writes this port into the URLs it answers with, such as a queue's.)
    os.environ.setdefault("MOTO_PORT", str(args.port))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, one_at_a_time(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
