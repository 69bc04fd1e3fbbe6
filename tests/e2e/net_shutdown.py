"""A kisee::net server in its own process: serves keep-alive requests, then on
SIGTERM closes its idle connections, stops listening and exits with status 0
(what kisee and certified serve rely on under systemd)."""

import http.client
import signal
import socket
import sys

import harness


def main():
    port = harness.free_port()
    server = harness.Process([harness.tool("net_hello"), "--port", str(port), "--threads", "2"])
    try:
        server.wait_for_output(f"listening on {port}")
        harness.wait_for_port(port, process=server.popen)

        # Keep-alive: several requests on one connection.
        idle = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for _ in range(3):
            idle.request("GET", "/health")
            response = idle.getresponse()
            assert response.status == 200, response.status
            assert response.read() == b"ok"
        assert harness.request(port, "GET", "/nowhere").status == 404

        server.signal(signal.SIGTERM)
        code = server.wait(timeout=30)
        assert code == 0, f"exit status {code}\n{server.stderr()}"
        assert "shutting down gracefully" in server.stdout() + server.stderr()

        # The idle keep-alive connection was closed by the server...
        idle.sock.settimeout(10)
        assert idle.sock.recv(1) == b"", "the idle connection is still open"
        # ...and nothing listens any more.
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
            raise AssertionError("the port still accepts connections")
        except OSError:
            pass
    finally:
        server.cleanup()
    print("net graceful shutdown: ok")


if __name__ == "__main__":
    sys.exit(main())
