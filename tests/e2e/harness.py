"""Shared helpers for the end-to-end tests: real binaries on loopback ports.

Every test script imports this module. It finds the built tools, picks free
loopback ports, starts processes it alone owns (and stops them by pid), waits
for ports, and makes HTTP requests with the standard library.
"""

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BIN_DIR = os.environ.get("KISEE_BIN_DIR") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "bin")
SOURCE_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED_DIR = os.environ.get("KISEE_SHARED_DIR") or os.path.join(SOURCE_DIR, "..", "shared")
NODE_DIR = os.path.join(SOURCE_DIR, "tests", "node")


def tool(name):
    """Absolute path of a built tool (kisee, certified, message, biscuit...)."""
    path = os.path.abspath(os.path.join(BIN_DIR, name))
    if not os.path.exists(path):
        raise RuntimeError(f"tool not built: {path}")
    return path


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, host="127.0.0.1", timeout=20.0, process=None):
    """Wait until something accepts connections on host:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before listening")
        with contextlib.suppress(OSError):
            with socket.create_connection((host, port), timeout=0.5):
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {host}:{port} after {timeout}s")


class Process:
    """A child process whose output is captured to a file and can be read."""

    def __init__(self, args, cwd=None, env=None, stdin=subprocess.DEVNULL):
        self.args = args
        self._out = tempfile.NamedTemporaryFile("w+b", prefix="e2e-out-", delete=False)
        self._err = tempfile.NamedTemporaryFile("w+b", prefix="e2e-err-", delete=False)
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        self.popen = subprocess.Popen(args, cwd=cwd, env=full_env, stdin=stdin,
                                      stdout=self._out, stderr=self._err)
        self.pid = self.popen.pid

    def stdout(self):
        with open(self._out.name, "rb") as f:
            return f.read().decode(errors="replace")

    def stderr(self):
        with open(self._err.name, "rb") as f:
            return f.read().decode(errors="replace")

    def wait_for_output(self, needle, timeout=10.0, stream="stdout"):
        """Wait until `needle` (a str) appears in the process's output; return the text."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.stdout() if stream == "stdout" else self.stderr()
            if needle in text:
                return text
            if self.popen.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"{needle!r} not seen in {stream} of {self.args[0]}:\n"
                           f"--- stdout\n{self.stdout()}\n--- stderr\n{self.stderr()}")

    def signal(self, sig):
        if self.popen.poll() is None:
            os.kill(self.pid, sig)

    def wait(self, timeout=30.0):
        return self.popen.wait(timeout=timeout)

    def stop(self, timeout=15.0):
        """SIGTERM, then SIGKILL after `timeout`; returns the exit code."""
        if self.popen.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.popen.wait()
        for f in (self._out, self._err):
            f.close()
        return self.popen.returncode

    def cleanup(self):
        self.stop()
        for f in (self._out, self._err):
            with contextlib.suppress(OSError):
                os.unlink(f.name)


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # http.client.HTTPMessage: case-insensitive get()
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<Response {self.status} {self.reason!r} {self.body[:200]!r}>"


def request(port, method, path, body=None, headers=None, host="127.0.0.1", timeout=10.0):
    """One HTTP/1.1 request on a fresh connection. `body` may be bytes, str or a
    JSON-serialisable object."""
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        res = conn.getresponse()
        return Response(res.status, res.reason, res.headers, res.read())
    finally:
        conn.close()


def run(args, input=None, check=False, timeout=60, cwd=None, env=None):
    """Run a command to completion; returns subprocess.CompletedProcess (text)."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run(args, input=input, capture_output=True, text=True, check=check,
                          timeout=timeout, cwd=cwd, env=full_env)


@contextlib.contextmanager
def temp_dir(prefix="e2e-"):
    path = tempfile.mkdtemp(prefix=prefix)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def main(tests):
    """Run the test functions in `tests` in order; exit non-zero on the first failure."""
    failed = 0
    for t in tests:
        start = time.monotonic()
        try:
            t()
            print(f"PASS {t.__name__} ({time.monotonic() - start:.2f}s)")
        except Exception as e:  # noqa: BLE001 -- report every failure kind the same way
            failed += 1
            print(f"FAIL {t.__name__}: {type(e).__name__}: {e}")
            import traceback
            traceback.print_exc()
    sys.exit(1 if failed else 0)
