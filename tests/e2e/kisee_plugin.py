"""Plugin backends (class = "plugin:<path>", kisee/idp/plugin.h): the example
flat-file plugin from examples/ end to end (registration, login, imported
hash upgraded, recovery by e-mail, password change, two processes on one
file, read-only), and broken plugins refused at start with one line or,
misbehaving at run time, answered 503 without a crash."""

import os
import warnings

import harness
import kisee_support as ks
import smtp_support

warnings.filterwarnings("ignore", category=DeprecationWarning)
import crypt  # noqa: E402 -- Debian 12's Python 3.11: an imported bcrypt hash

LIB_DIR = os.path.abspath(os.path.join(harness.BIN_DIR, "..", "lib"))
FLATFILE = os.path.join(LIB_DIR, "libkisee_flatfile.so")


def test_plugin(name):
    return os.path.join(LIB_DIR, "test-plugins", f"libkisee_test_plugin_{name}.so")


def flatfile_backend(extra=""):
    return (f'[identity_backend]\nclass = "plugin:{FLATFILE}"\n[identity_backend.options]\n'
            f'path = "users.txt"\n{extra}')


def test_flatfile_plugin_end_to_end():
    bcrypt = crypt.crypt("imported-pass-1", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))
    with harness.temp_dir() as d:
        users = os.path.join(d, "users.txt")
        with open(users, "w") as f:
            f.write(f"# imported\nada:ada@example.com:{bcrypt}\n")
        pa, pb = harness.free_port(), harness.free_port()
        smtp = smtp_support.SmtpSink().start()
        a = b = None
        try:
            a_settings = ks.write_backend_settings(d, pa, flatfile_backend(),
                                                   ks.email_section(smtp), name="a.toml")
            with open(a_settings) as f:
                text = f.read()
            b_settings = os.path.join(d, "b.toml")
            with open(b_settings, "w") as f:
                f.write(text.replace(f"port = {pa}", f"port = {pb}"))
            a = ks.Kisee(a_settings, pa)
            b = ks.Kisee(b_settings, pb)
            ks.check("plugin backend flatfile loaded" in a.process.stderr(), a.process.stderr())
            # The imported bcrypt hash logs in and is upgraded in the file.
            ks.expect_problem(ks.login(a, "ada", "wrong-one-1"), 403,
                              "Failed identification for kisee.")
            ks.expect_problem(ks.login(a, "ada", ""), 403, "Failed identification for kisee.")
            ks.eq(ks.login(a, "ada", "imported-pass-1").status, 201)
            with open(users) as f:
                ks.check("ada:ada@example.com:$argon2id$" in f.read(), "hash upgraded")
            ks.eq(ks.login(b, "ada", "imported-pass-1").status, 201, "the other process too")
            # Registration with the host's policy; the other process sees it.
            ks.check("register_user" in a.request("GET", "/users/").json(), "register link")
            res = a.request("POST", "/users/", {"username": "alice", "password": "password",
                                                "email": "alice@example.com"})
            ks.eq(res.status, 400, "the host's policy refuses a common password")
            res = a.request("POST", "/users/", {"username": "alice", "password": "wonderland-42",
                                                "email": "alice@example.com"})
            ks.eq(res.status, 201, f"register {res!r}")
            ks.expect_problem(b.request("POST", "/users/", {"username": "alice",
                                                            "password": "wonderland-42",
                                                            "email": "x@example.com"}),
                              409, "User already exist")
            ks.expect_problem(a.request("POST", "/users/", {"username": "a:b",
                                                            "password": "wonderland-42",
                                                            "email": "ab@example.com"}),
                              400, "Username contains invalid characters")
            ks.eq(ks.login(b, "alice", "wonderland-42").status, 201)
            # Recovery by e-mail; the used token is refused by the other process.
            ks.recover_by_email(a, smtp, "alice", "alice@example.com", "looking-glass-7")
            token = ks.token_from_mail(smtp.wait_for_message(1))
            ks.expect_problem(b.request("PATCH", "/users/alice/",
                                        [{"op": "replace", "path": "/password",
                                          "value": "another-one-8"}],
                                        {"Authorization": "Bearer " + token}),
                              401, "Bad authorization")
            ks.eq(ks.login(b, "alice", "looking-glass-7").status, 201)
        finally:
            for k in (a, b):
                if k is not None:
                    ks.eq(k.stop(), 0)
            smtp.stop()


def test_flatfile_read_only():
    with harness.temp_dir() as d:
        with open(os.path.join(d, "users.txt"), "w") as f:
            f.write("")
        port = harness.free_port()
        k = ks.Kisee(ks.write_backend_settings(d, port, flatfile_backend("writable = false\n")),
                     port)
        try:
            ks.check("register_user" not in k.request("GET", "/users/").json(), "no register link")
            ks.expect_problem(k.request("POST", "/users/", {"username": "alice",
                                                            "password": "wonderland-42",
                                                            "email": "alice@example.com"}),
                              403, "Registration is not available.")
            ks.expect_problem(k.request("PATCH", "/users/alice/", [], {"Authorization": "Basic x"}),
                              403, "Password changes are not available.")
        finally:
            ks.eq(k.stop(), 0)


def test_broken_plugins_are_one_line_start_errors():
    with harness.temp_dir() as d:
        port = harness.free_port()
        cases = [
            ("missing", os.path.join(d, "nowhere.so"), "cannot open shared object file"),
            ("no_entry", test_plugin("no_entry"), "no kisee_backend_plugin_v1 symbol"),
            ("wrong_abi", test_plugin("wrong_abi"), "built for plugin ABI version 99"),
            ("missing_function", test_plugin("missing_function"), "lacks a required function"),
            ("create_fails", test_plugin("create_fails"),
             "cannot reach the user store at example.invalid second line"),
            ("options", FLATFILE, "unknown or mistyped option colour"),
        ]
        for name, path, expected in cases:
            backend = f'[identity_backend]\nclass = "plugin:{path}"\n'
            if name == "options":
                backend += '[identity_backend.options]\npath = "u.txt"\ncolour = "blue"\n'
            line = ks.start_fails(ks.write_backend_settings(d, port, backend, name=f"{name}.toml"))
            ks.check(expected in line, f"{name}: {line}")
            ks.check(path in line, f"{name}: the file is named: {line}")


def test_a_misbehaving_plugin_costs_a_503_not_a_crash():
    with harness.temp_dir() as d:
        port = harness.free_port()
        backend = f'[identity_backend]\nclass = "plugin:{test_plugin("misbehaves")}"\n'
        k = ks.Kisee(ks.write_backend_settings(d, port, backend), port)
        try:
            for name in ("ghost", "anyone"):
                ks.expect_problem(ks.login(k, name, "some-password-1"), 503, "Service Unavailable")
            ks.eq(k.request("GET", "/health").status, 200, "still serving")
            ks.check("returned KISEE_OK without a user" in k.process.stderr(), k.process.stderr())
        finally:
            ks.eq(k.stop(), 0)


if __name__ == "__main__":
    harness.main([test_flatfile_plugin_end_to_end, test_flatfile_read_only,
                  test_broken_plugins_are_one_line_start_errors,
                  test_a_misbehaving_plugin_costs_a_503_not_a_crash])
