"""Two kisee processes on one SQLite file: a user registered on one logs in
on the other; a reset token used on one is refused on the other; login
lockouts are shared."""

import os

import harness
import kisee_support as ks


def settings_for(d, name, port, db):
    path = ks.write_quickstart_settings(d, port, name=name)
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(text.replace('path = "kisee.db"', f'path = "{db}"'))
    return path


def test_two_processes_share_one_store():
    with harness.temp_dir() as d:
        db = os.path.join(d, "shared.db")
        pa, pb = harness.free_port(), harness.free_port()
        a_settings = settings_for(d, "a.toml", pa, db)
        # Both files must share the signing key: copy a's [jwt] into b.
        b_settings = os.path.join(d, "b.toml")
        with open(a_settings) as f:
            text = f.read()
        with open(b_settings, "w") as f:
            f.write(text.replace(f"port = {pa}", f"port = {pb}"))
        a = ks.Kisee(a_settings, pa)
        b = ks.Kisee(b_settings, pb)
        try:
            printed = [p for p in (a, b) if "password: " in p.process.stdout()]
            ks.eq(len(printed), 1, "root created once")
            res = a.request("POST", "/users/", {"username": "alice", "password": "wonderland-42",
                                                "email": "alice@example.com"})
            ks.eq(res.status, 201)
            ks.eq(ks.login(b, "alice", "wonderland-42").status, 201, "login on the other process")
            ks.eq(b.request("POST", "/users/", {"username": "alice", "password": "wonderland-42",
                                                "email": "other@example.com"}).status, 409)

            ks.eq(a.request("POST", "/password_recoveries/", {"username": "alice"}).status, 201)
            token = a.reset_token("alice")
            patch = [{"op": "replace", "path": "/password", "value": "looking-glass-7"}]
            bearer = {"Authorization": "Bearer " + token}
            ks.eq(b.request("PATCH", "/users/alice/", patch, bearer).status, 204, "used on b")
            ks.expect_problem(a.request("PATCH", "/users/alice/", patch, bearer), 401,
                              "Bad authorization")
            ks.eq(ks.login(a, "alice", "looking-glass-7").status, 201)

            # Failures on a lock alice out on b too.
            for _ in range(5):
                ks.eq(ks.login(a, "alice", "wrong-password").status, 403)
            ks.expect_problem(ks.login(b, "alice", "looking-glass-7"), 429, "Too Many Requests")
        finally:
            ks.eq(a.stop(), 0)
            ks.eq(b.stop(), 0)


if __name__ == "__main__":
    harness.main([test_two_processes_share_one_store])
