"""kisee-quickstart's settings (sqlite store, P-256 keys, strict policy):
the same walk as with the demo backend, then restart and check that users
persist."""

import harness
import kisee_support as ks


def test_walk_with_sqlite():
    with harness.temp_dir() as d:
        port = harness.free_port()
        settings = ks.write_quickstart_settings(d, port)
        k = ks.Kisee(settings, port)
        try:
            root_password = k.root_password()
            ks.walk(k, f"http://127.0.0.1:{port}", root_password, strict_policy=True,
                    store_name="sqlite")
        finally:
            ks.eq(k.stop(), 0, "exit code after SIGTERM")
        # A restart keeps the users and does not create root again.
        k = ks.Kisee(settings, port)
        try:
            ks.eq(ks.login(k, "alice", "white-rabbit-3").status, 429, "lockout is persistent")
            ks.eq(ks.login(k, "root", root_password).status, 201, "root survives a restart")
            ks.check("password: " not in k.process.stdout(), "root password printed only once")
        finally:
            ks.eq(k.stop(), 0)


if __name__ == "__main__":
    harness.main([test_walk_with_sqlite])
