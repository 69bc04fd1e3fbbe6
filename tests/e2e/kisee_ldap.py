"""The ldap backend against a real slapd the test starts (slapd_support):
login by binding as the user's entry, RFC 4515 escaping, empty passwords,
read-only answers, StartTLS and LDAPS with the test CA, a writable
directory (password modify through bind_dn) with recovery by e-mail, and
the directory stopped and started again."""

import subprocess
import time

import harness
import kisee_support as ks
import proxy_support
import slapd_support as sl
import smtp_support


def ldap_backend(server, tls=False, starttls=False, ca=True, writable=False, extra=""):
    text = (f'[identity_backend]\nclass = "ldap"\n[identity_backend.options]\n'
            f'uri = "{server.uri(tls)}"\nbase_dn = "{sl.PEOPLE}"\n'
            f'user_filter = "(&(objectClass=inetOrgPerson)(uid={{username}}))"\n'
            f'email_filter = "(mail={{email}})"\nusername_attribute = "uid"\n'
            f'email_attribute = "mail"\nbind_dn = "{sl.READER_DN}"\n'
            f'bind_password = "{sl.READER_PASSWORD}"\ntimeout = 2\n')
    if starttls:
        text += "starttls = true\n"
    if ca:
        text += f'ca_file = "{server.certs["ca"]}"\n'
    if writable:
        text += "writable = true\n"
    return text + extra


def test_read_only_login_escaping_and_empty_passwords(server):
    # This directory accepts a DN with an empty password as an anonymous
    # bind: the check below that kisee refuses empty passwords can fail.
    unauth = subprocess.run(["ldapwhoami", "-x", "-H", server.uri(), "-D",
                             f"uid=alice,{sl.PEOPLE}", "-w", ""], capture_output=True, text=True)
    ks.eq(unauth.returncode, 0, f"slapd accepts unauthenticated binds: {unauth.stderr}")
    with harness.temp_dir() as d:
        port = harness.free_port()
        k = ks.Kisee(ks.write_backend_settings(d, port, ldap_backend(server)), port)
        try:
            res = ks.login(k, "alice", "wonderland-42")
            ks.eq(res.status, 201, f"login by binding as alice: {res!r}")
            claims = ks.b64url_json(res.json()["tokens"][0].split(".")[1])
            ks.eq(claims["sub"], "alice", "user_id is the uid")
            for username, password in [("alice", "wrong-password"), ("alice", ""),
                                       ("nobody", "wonderland-42"), ("*", "wonderland-42"),
                                       ("alice)(uid=*", "wonderland-42"),
                                       ("*)(|(uid=*", "wonderland-42"), ("star\\2a", "x"),
                                       ("star", "asterisk-pass-6")]:
                ks.expect_problem(ks.login(k, username, password), 403,
                                  "Failed identification for kisee.")
            ks.eq(ks.login(k, "star*", "asterisk-pass-6").status, 201,
                  "a literal '*' in a uid matches itself, escaped")
            # Read-only: no registration, no password change.
            ks.check("register_user" not in k.request("GET", "/users/").json(), "no register link")
            ks.expect_problem(k.request("POST", "/users/", {"username": "eve",
                                                            "password": "wonderland-42",
                                                            "email": "eve@example.com"}),
                              403, "Registration is not available.")
            ks.expect_problem(k.request("PATCH", "/users/alice/",
                                        [{"op": "replace", "path": "/password", "value": "x" * 9}],
                                        {"Authorization": ks.basic("alice", "wonderland-42")}),
                              403, "Password changes are not available.")
            ks.eq(k.request("GET", "/health").json()["status"], "green")
            ks.check(sl.READER_PASSWORD not in k.process.stderr() + k.process.stdout(),
                     "bind_password never logged")
        finally:
            ks.eq(k.stop(), 0)


def test_writable_over_starttls_with_recovery_by_email(server):
    with harness.temp_dir() as d:
        port = harness.free_port()
        smtp = smtp_support.SmtpSink().start()
        try:
            settings = ks.write_backend_settings(
                d, port, ldap_backend(server, starttls=True, writable=True),
                ks.email_section(smtp))
            k = ks.Kisee(settings, port)
            try:
                ks.eq(ks.login(k, "bob", "builder-of-things-5").status, 201)
                ks.expect_problem(k.request("POST", "/users/", {"username": "eve",
                                                                "password": "wonderland-42",
                                                                "email": "eve@example.com"}),
                                  403, "Registration is not available.")
                ks.recover_by_email(k, smtp, "bob", "bob@example.com", "demolition-man-6")
                ks.expect_problem(ks.login(k, "bob", "builder-of-things-5"), 403,
                                  "Failed identification for kisee.")
                # The directory itself has the new password.
                check = subprocess.run(["ldapwhoami", "-x", "-H", server.uri(), "-D",
                                        f"uid=bob,{sl.PEOPLE}", "-w", "demolition-man-6"],
                                       capture_output=True, text=True)
                ks.eq(check.returncode, 0, f"bob binds with the new password: {check.stderr}")
                # Basic credentials change it too.
                res = k.request("PATCH", "/users/bob/",
                                [{"op": "replace", "path": "/password", "value": "rebuilt-it-7"}],
                                {"Authorization": ks.basic("bob", "demolition-man-6")})
                ks.eq(res.status, 204, f"{res!r}")
                ks.eq(ks.login(k, "bob", "rebuilt-it-7").status, 201)
            finally:
                ks.eq(k.stop(), 0)
        finally:
            smtp.stop()


def test_ldaps_verifies_the_directory_certificate(server):
    with harness.temp_dir() as d:
        port = harness.free_port()
        k = ks.Kisee(ks.write_backend_settings(d, port, ldap_backend(server, tls=True)), port)
        try:
            ks.eq(ks.login(k, "alice", "wonderland-42").status, 201, "login over ldaps://")
        finally:
            ks.eq(k.stop(), 0)
        # Without the test CA the certificate is not trusted: no start.
        line = ks.start_fails(ks.write_backend_settings(
            d, port, ldap_backend(server, tls=True, ca=False), name="untrusted.toml"))
        ks.check("ldap" in line, line)
        line = ks.start_fails(ks.write_backend_settings(
            d, port, ldap_backend(server, starttls=True, ca=False), name="untrusted2.toml"))
        ks.check("ldap" in line, line)


def test_directory_stopped_and_started_again(server):
    with harness.temp_dir() as d:
        port = harness.free_port()
        k = ks.Kisee(ks.write_backend_settings(d, port, ldap_backend(server)), port)
        try:
            ks.eq(ks.login(k, "alice", "wonderland-42").status, 201)
            server.stop()
            begin = time.monotonic()
            res = ks.login(k, "alice", "wonderland-42")
            ks.expect_problem(res, 503, "Service Unavailable")
            ks.check(res.headers.get("Retry-After") is not None, "Retry-After")
            ks.check(time.monotonic() - begin < 4, "fast 503")
            deadline = time.monotonic() + 10
            while k.request("GET", "/health").json()["status"] != "red":
                ks.check(time.monotonic() < deadline, "/health red within 10 s")
                time.sleep(0.2)
            ks.eq(k.request("GET", "/health/ready").status, 503)
            server.start()
            deadline = time.monotonic() + 15
            while ks.login(k, "alice", "wonderland-42").status != 201:
                ks.check(time.monotonic() < deadline, "back without a restart")
                time.sleep(0.2)
        finally:
            ks.eq(k.stop(), 0)


def test_a_directory_that_stops_answering_costs_at_most_the_timeout(server):
    proxy = proxy_support.FreezingProxy(server.port)
    with harness.temp_dir() as d:
        port = harness.free_port()
        backend = ldap_backend(server).replace(server.uri(), f"ldap://127.0.0.1:{proxy.port}")
        k = ks.Kisee(ks.write_backend_settings(d, port, backend), port)
        try:
            ks.eq(ks.login(k, "alice", "wonderland-42").status, 201)
            proxy.frozen.set()
            for _ in range(2):
                begin = time.monotonic()
                res = ks.login(k, "alice", "wonderland-42")
                elapsed = time.monotonic() - begin
                ks.expect_problem(res, 503, "Service Unavailable")
                ks.check(elapsed < 4, f"answered in {elapsed:.1f}s with a 2 s timeout")
            proxy.frozen.clear()
            deadline = time.monotonic() + 15
            while ks.login(k, "alice", "wonderland-42").status != 201:
                ks.check(time.monotonic() < deadline, "back when the directory answers")
                time.sleep(0.2)
        finally:
            ks.eq(k.stop(), 0)
            proxy.close()


def _named(f, server):
    def run():
        f(server)
    run.__name__ = f.__name__
    return run


if __name__ == "__main__":
    slapd = sl.Slapd()
    try:
        harness.main([_named(f, slapd) for f in (
            test_read_only_login_escaping_and_empty_passwords,
            test_writable_over_starttls_with_recovery_by_email,
            test_ldaps_verifies_the_directory_certificate,
            test_directory_stopped_and_started_again,
            test_a_directory_that_stops_answering_costs_at_most_the_timeout)])
    finally:
        slapd.cleanup()
