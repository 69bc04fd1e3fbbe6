"""The path of `make run`: kisee-quickstart --yes writes settings.toml, then
kisee --settings settings.toml serves; the server registers, logs in and
recovers a password."""

import os

import harness
import kisee_support as ks


def test_quickstart_then_serve():
    with harness.temp_dir() as d:
        port = harness.free_port()
        # Exactly what the Makefile runs, plus --port to stay off 8140.
        res = harness.run([harness.tool("kisee-quickstart"), "--yes", "--port", str(port),
                           "--output", "settings.toml"], cwd=d, check=True)
        ks.check("settings.toml" in res.stdout, res.stdout)
        mode = os.stat(os.path.join(d, "settings.toml")).st_mode & 0o777
        ks.eq(mode, 0o600, "settings.toml holds a private key")
        again = harness.run([harness.tool("kisee-quickstart"), "--yes", "--output",
                             "settings.toml"], cwd=d)
        ks.eq(again.returncode, 1, "no overwrite without --force")
        proc = harness.Process([harness.tool("kisee"), "--settings", "settings.toml"], cwd=d)
        k = ks.Kisee.__new__(ks.Kisee)
        k.port, k.process = port, proc
        harness.wait_for_port(port, process=proc.popen)
        try:
            root_password = k.root_password()
            ks.check(os.path.exists(os.path.join(d, "kisee.db")), "store next to the settings")
            ks.eq(k.request("POST", "/users/", {"username": "newcomer", "password": "first-day-at-work",
                                                "email": "newcomer@example.com"}).status, 201)
            ks.eq(ks.login(k, "newcomer", "first-day-at-work").status, 201)
            ks.eq(ks.login(k, "root", root_password).status, 201)
            ks.eq(k.request("POST", "/password_recoveries/", {"email": "newcomer@example.com"}).status, 201)
            token = k.reset_token("newcomer")
            res = k.request("PATCH", "/users/newcomer/",
                            [{"op": "replace", "path": "/password", "value": "second-day-at-work"}],
                            {"Authorization": "Bearer " + token})
            ks.eq(res.status, 204)
            ks.eq(ks.login(k, "newcomer", "second-day-at-work").status, 201)
        finally:
            ks.eq(k.stop(), 0)


def test_quickstart_refuses_bad_flags_in_one_line():
    with harness.temp_dir() as d:
        for flag, value in (("--port", "0"), ("--port", "65536"), ("--port", "http"),
                            ("--host", "localhost"), ("--hostname", "localhost:8140")):
            res = harness.run([harness.tool("kisee-quickstart"), "--yes", flag, value,
                               "--output", "settings.toml"], cwd=d)
            ks.eq(res.returncode, 1, f"{flag} {value}: {res.stderr}")
            lines = res.stderr.splitlines()
            ks.check(len(lines) == 1 and lines[0].startswith(f"kisee-quickstart: {flag}: "),
                     f"{flag} {value}: one line naming the flag: {res.stderr!r}")
            ks.check(not os.path.exists(os.path.join(d, "settings.toml")), "nothing written")


if __name__ == "__main__":
    harness.main([test_quickstart_then_serve, test_quickstart_refuses_bad_flags_in_one_line])
