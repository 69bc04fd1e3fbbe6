"""SIGTERM during load: every request the server had accepted is answered,
queued password recoveries are not lost, and kisee exits 0."""

import http.client
import signal
import threading
import time

import harness
import kisee_support as ks


def test_sigterm_during_load():
    with harness.temp_dir() as d:
        port = harness.free_port()
        # Real argon2id parameters: logins take long enough to be in flight.
        settings = ks.write_quickstart_settings(d, port, fast=False)
        k = ks.Kisee(settings, port)
        root = k.root_password()
        results = []  # (started_at, outcome)
        lock = threading.Lock()
        stop = threading.Event()

        def client():
            # One keep-alive connection per client, opened before the signal:
            # accepted by the server for sure.
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            while not stop.is_set():
                started = time.monotonic()
                try:
                    conn.request("POST", "/jwt/", body=f'{{"username": "root", "password": "{root}"}}')
                    res = conn.getresponse()
                    res.read()
                    outcome = res.status
                    if res.getheader("Connection", "").lower() == "close":
                        conn.close()
                        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                except (OSError, http.client.HTTPException) as e:
                    outcome = type(e).__name__
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    time.sleep(0.01)
                with lock:
                    results.append((started, outcome))
            conn.close()

        threads = [threading.Thread(target=client) for _ in range(8)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        # A recovery accepted just before the signal must still be delivered.
        ks.eq(k.request("POST", "/password_recoveries/", {"username": "root"}).status, 201)
        signalled = time.monotonic()
        k.process.signal(signal.SIGTERM)
        code = k.process.wait(timeout=60)
        stop.set()
        for t in threads:
            t.join(timeout=60)
        ks.eq(code, 0, "exit code after SIGTERM")
        ks.check("Password reset challenge for user root is " in k.process.stdout(),
                 "the queued recovery was delivered before exit")
        before = [o for s, o in results if s < signalled - 0.2]
        ks.check(len(before) >= 8, f"load was running ({len(before)} requests)")
        bad = [o for o in before if o not in (201, 503)]
        ks.eq(bad, [], "requests sent well before SIGTERM were all answered")
        answered_late = [o for s, o in results if s >= signalled - 0.2 and isinstance(o, int)]
        ks.check(all(o in (201, 503) for o in answered_late), f"late answers {answered_late}")
        k.process.cleanup()


if __name__ == "__main__":
    harness.main([test_sigterm_during_load])
