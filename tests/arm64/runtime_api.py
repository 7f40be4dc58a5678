"""A Lambda Runtime API for one function process: it hands out the given events in order, one per
`next`, writes each answer (or error) to the output folder, and stops the process once every
event is answered. Only what lambda_runtime asks for is served.

Usage: python runtime_api.py PORT OUT_DIR EVENT.json [EVENT.json ...]
"""

import http.server
import json
import os
import sys
import threading
import time

port, out_dir, events = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
os.makedirs(out_dir, exist_ok=True)
state = {"next": 0, "answered": 0}
lock = threading.Lock()
done = threading.Event()


class Api(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body=b"", headers=()):
        self.send_response(code)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if not self.path.endswith("/runtime/invocation/next"):
            return self.reply(404)
        with lock:
            i = state["next"]
            state["next"] += 1
        if i >= len(events):
            # Every event is handed out: hold the process here until it is stopped.
            done.wait()
            time.sleep(3600)
            return
        with open(events[i], "rb") as f:
            body = f.read()
        deadline = int(time.time() * 1000) + 120_000
        self.reply(200, body, [
            ("Lambda-Runtime-Aws-Request-Id", f"smoke-{i}"),
            ("Lambda-Runtime-Deadline-Ms", str(deadline)),
            ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:smoke"),
            ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000"),
            ("Content-Type", "application/json"),
        ])

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        parts = self.path.strip("/").split("/")
        # /2018-06-01/runtime/invocation/<id>/response|error, or /2018-06-01/runtime/init/error
        name = "init-error" if parts[-2:] == ["init", "error"] else f"{parts[-2]}.{parts[-1]}"
        with open(os.path.join(out_dir, name + ".json"), "wb") as f:
            f.write(body)
        self.reply(202, b"{}", [("Content-Type", "application/json")])
        with lock:
            state["answered"] += 1
            if name == "init-error" or state["answered"] >= len(events):
                done.set()


server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Api)
server.daemon_threads = True
threading.Thread(target=server.serve_forever, daemon=True).start()
done.wait()
sys.exit(0)
