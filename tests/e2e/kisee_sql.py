"""The sql backend over an existing application schema: on PostgreSQL with
every query (registration, login with imported bcrypt and yescrypt hashes
upgraded to argon2id, recovery by e-mail, password change), and read-only
on SQLite (403 for registration and password changes, no register link)."""

import os
import sqlite3
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)
import crypt  # noqa: E402 -- Debian 12's Python 3.11: libcrypt hashes for imported users

import harness
import kisee_support as ks
import pg_support
import smtp_support

PEOPLE = ("CREATE TABLE people (id SERIAL PRIMARY KEY, login TEXT NOT NULL UNIQUE, "
          "mail TEXT NOT NULL UNIQUE, pw TEXT NOT NULL, admin BOOLEAN NOT NULL DEFAULT FALSE)")

QUERIES = """
by_username = "SELECT id AS user_id, login AS username, mail AS email, pw AS password_hash, admin AS is_superuser FROM people WHERE login = :username"
by_email = "SELECT id AS user_id, login AS username, mail AS email, pw AS password_hash, admin AS is_superuser FROM people WHERE mail = :email"
"""

WRITES = """
set_password = "UPDATE people SET pw = :password_hash WHERE id = CAST(:user_id AS INTEGER)"
insert_user = "INSERT INTO people (login, mail, pw, admin) VALUES (:username, :email, :password_hash, CAST(:is_superuser AS BOOLEAN))"
"""


def imported_hashes():
    bcrypt = crypt.crypt("imported-pass-1", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))
    yescrypt = crypt.crypt("imported-pass-2", "$y$j9T$kiseeYescryptSlt$")
    ks.check(bcrypt.startswith("$2b$") and yescrypt.startswith("$y$"), "libcrypt hashes")
    return bcrypt, yescrypt


def test_writable_schema_on_postgresql(pg):
    bcrypt, yescrypt = imported_hashes()
    dsn = pg.create_database("app")
    pg.psql(PEOPLE, db="app")
    pg.psql(f"INSERT INTO people (login, mail, pw, admin) VALUES "
            f"('ada', 'ada@example.com', '{bcrypt}', TRUE), "
            f"('grace', 'grace@example.com', '{yescrypt}', FALSE)", db="app")
    with harness.temp_dir() as d:
        port = harness.free_port()
        smtp = smtp_support.SmtpSink().start()
        try:
            backend = (f'[identity_backend]\nclass = "sql"\n[identity_backend.options]\n'
                       f'driver = "postgresql"\ndsn = "{dsn}"\n{QUERIES}{WRITES}')
            settings = ks.write_backend_settings(d, port, backend, ks.email_section(smtp))
            k = ks.Kisee(settings, port)
            try:
                # Imported hashes log in and become argon2id.
                for name, password in (("ada", "imported-pass-1"), ("grace", "imported-pass-2")):
                    ks.expect_problem(ks.login(k, name, "wrong-password"), 403,
                                      "Failed identification for kisee.")
                    res = ks.login(k, name, password)
                    ks.eq(res.status, 201, f"{name} logs in with the imported hash")
                    stored = pg.psql(f"SELECT pw FROM people WHERE login = '{name}'", db="app")
                    ks.check(stored.startswith("$argon2id$"), f"{name}'s hash upgraded: {stored}")
                    ks.eq(ks.login(k, name, password).status, 201, "and still logs in")
                ada_id = pg.psql("SELECT id FROM people WHERE login = 'ada'", db="app")
                claims = ks.b64url_json(ks.login(k, "ada", "imported-pass-1").json()
                                        ["tokens"][0].split(".")[1])
                ks.eq(claims["sub"], ada_id, "sub is the query's user_id")
                ks.expect_problem(ks.login(k, "ada", ""), 403, "Failed identification for kisee.")

                # Registration through insert_user.
                users = k.request("GET", "/users/").json()
                ks.check("register_user" in users, "writable: the register link is there")
                res = k.request("POST", "/users/", {"username": "linus", "password": "penguin-power-9",
                                                    "email": "linus@example.com"})
                ks.eq(res.status, 201, f"register {res!r}")
                ks.eq(res.headers.get("Location"), "/users/linus/")
                ks.expect_problem(k.request("POST", "/users/", {"username": "linus",
                                                                "password": "penguin-power-9",
                                                                "email": "other@example.com"}),
                                  409, "User already exist")
                ks.eq(ks.login(k, "linus", "penguin-power-9").status, 201)

                # Recovery by e-mail and a password change; the PATCH path is
                # /users/<id column>/.
                ks.recover_by_email(k, smtp, "linus", "linus@example.com", "kernel-panic-11")
                linus_id = pg.psql("SELECT id FROM people WHERE login = 'linus'", db="app")
                auth = {"Authorization": ks.basic("linus", "kernel-panic-11")}
                patch = [{"op": "replace", "path": "/password", "value": "git-merge-12"}]
                ks.expect_problem(k.request("PATCH", "/users/linus/", patch, auth), 403,
                                  "Token does not apply to user resource.")
                ks.eq(k.request("PATCH", f"/users/{linus_id}/", patch, auth).status, 204)
                ks.eq(ks.login(k, "linus", "git-merge-12").status, 201)
                # kisee's side tables live beside the schema.
                ks.eq(pg.psql("SELECT count(*) FROM kisee_reset_nonces", db="app"), "1")
            finally:
                ks.eq(k.stop(), 0)
        finally:
            smtp.stop()


def test_read_only_schema_on_sqlite():
    bcrypt, _ = imported_hashes()
    with harness.temp_dir() as d:
        db = sqlite3.connect(os.path.join(d, "app.db"))
        db.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, login TEXT, mail TEXT, pw TEXT, "
                   "admin INTEGER)")
        db.execute("INSERT INTO people VALUES (7, 'ada', 'ada@example.com', ?, 0)", (bcrypt,))
        db.commit()
        db.close()
        port = harness.free_port()
        backend = (f'[identity_backend]\nclass = "sql"\n[identity_backend.options]\n'
                   f'driver = "sqlite"\npath = "app.db"\n{QUERIES}')
        settings = ks.write_backend_settings(d, port, backend)
        k = ks.Kisee(settings, port)
        try:
            ks.eq(ks.login(k, "ada", "imported-pass-1").status, 201)
            users = k.request("GET", "/users/").json()
            ks.check("register_user" not in users, f"no register link: {list(users)}")
            ks.check("register_user" not in k.request(
                "GET", "/users/", headers={"Accept": "application/json"}).json(), "json too")
            ks.expect_problem(k.request("POST", "/users/", {"username": "eve",
                                                            "password": "wonderland-42",
                                                            "email": "eve@example.com"}),
                              403, "Registration is not available.")
            patch = [{"op": "replace", "path": "/password", "value": "new-password-3"}]
            ks.expect_problem(k.request("PATCH", "/users/7/", patch,
                                        {"Authorization": ks.basic("ada", "imported-pass-1")}),
                              403, "Password changes are not available.")
            ks.eq(k.request("POST", "/password_recoveries/", {"email": "ada@example.com"}).status,
                  201, "recovery requests are still answered 201")
            db = sqlite3.connect(os.path.join(d, "app.db"))
            ks.eq(db.execute("SELECT pw FROM people WHERE id = 7").fetchone()[0], bcrypt,
                  "read-only: nothing written")
            ks.eq(db.execute("SELECT count(*) FROM sqlite_master WHERE name LIKE 'kisee%'")
                  .fetchone()[0], 0, "no side table")
            db.close()
        finally:
            ks.eq(k.stop(), 0)


def test_bad_queries_stop_the_start(pg):
    with harness.temp_dir() as d:
        port = harness.free_port()
        dsn = pg.create_database("bad")
        pg.psql(PEOPLE, db="bad")
        backend = (f'[identity_backend]\nclass = "sql"\n[identity_backend.options]\n'
                   f'driver = "postgresql"\ndsn = "{dsn}"\n'
                   'by_username = "SELECT login AS username FROM people WHERE login = :username"\n')
        line = ks.start_fails(ks.write_backend_settings(d, port, backend))
        ks.check("must return a column named user_id" in line, line)
        backend = (f'[identity_backend]\nclass = "sql"\n[identity_backend.options]\n'
                   f'driver = "postgresql"\ndsn = "{dsn}"\n'
                   'by_username = "SELECT * FROM nowhere WHERE login = :username"\n')
        line = ks.start_fails(ks.write_backend_settings(d, port, backend, name="b.toml"))
        ks.check("by_username" in line and "nowhere" in line, line)


def _named(f, pg):
    def run():
        f(pg) if pg is not None else f()
    run.__name__ = f.__name__
    return run


if __name__ == "__main__":
    with pg_support.postgres() as server:
        harness.main([_named(test_writable_schema_on_postgresql, server),
                      _named(test_read_only_schema_on_sqlite, None),
                      _named(test_bad_queries_stop_the_start, server)])
