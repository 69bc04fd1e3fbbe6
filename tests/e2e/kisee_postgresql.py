"""The postgresql backend against a real PostgreSQL server the test starts
(pg_support): the contract walk, recovery by e-mail, two kisee instances on
one database, concurrent first starts, the database stopped under load and
started again, and a database that stops answering (never a hang longer
than the configured timeout)."""

import threading
import time
import uuid

import harness
import kisee_support as ks
import pg_support
import proxy_support
import smtp_support


def pg_backend(dsn, timeout=2, extra=""):
    return (f'[identity_backend]\nclass = "postgresql"\n[identity_backend.options]\n'
            f'dsn = "{dsn}"\npool_size = 4\ntimeout = {timeout}\n{extra}')


def register(k, name, password="wonderland-42"):
    return k.request("POST", "/users/", {"username": name, "password": password,
                                         "email": f"{name}@example.com"})


def test_walk_and_recovery_by_email(pg):
    with harness.temp_dir() as d:
        dsn = pg.create_database("walk")
        port = harness.free_port()
        smtp = smtp_support.SmtpSink().start()
        try:
            # The walk reads reset tokens from standard output...
            settings = ks.write_backend_settings(
                d, port, pg_backend(dsn, extra='reset_delivery = "stdout"\n'))
            k = ks.Kisee(settings, port)
            try:
                root_password = k.root_password()
                ks.walk(k, f"http://127.0.0.1:{port}", root_password, strict_policy=True,
                        store_name="postgresql")
            finally:
                ks.eq(k.stop(), 0)
            # ...then the same database with reset tokens sent by e-mail.
            settings = ks.write_backend_settings(d, port, pg_backend(dsn), ks.email_section(smtp),
                                                 name="mail.toml")
            k = ks.Kisee(settings, port)
            try:
                ks.check("password: " not in k.process.stdout(), "root created once")
                ks.eq(register(k, "bob").status, 201)
                ks.eq(ks.login(k, "bob", "wonderland-42").status, 201)
                ks.recover_by_email(k, smtp, "bob", "bob@example.com", "through-the-glass-8")
                ks.eq(pg.psql("SELECT count(*) FROM kisee_users WHERE username = 'bob' AND "
                              "password_hash LIKE '$argon2id$%'", db="walk"), "1")
            finally:
                ks.eq(k.stop(), 0)
        finally:
            smtp.stop()


def test_two_instances_behave_as_one(pg):
    with harness.temp_dir() as d:
        dsn = pg.create_database("pair")
        pa, pb = harness.free_port(), harness.free_port()
        a_settings = ks.write_backend_settings(
            d, pa, pg_backend(dsn, extra='reset_delivery = "stdout"\n'), name="a.toml")
        with open(a_settings) as f:
            text = f.read()
        b_settings = f"{d}/b.toml"
        with open(b_settings, "w") as f:
            f.write(text.replace(f"port = {pa}", f"port = {pb}"))  # same keys, same store
        a = ks.Kisee(a_settings, pa)
        b = ks.Kisee(b_settings, pb)
        try:
            ks.eq(register(a, "alice").status, 201)
            ks.eq(ks.login(b, "alice", "wonderland-42").status, 201, "registered on a, login on b")
            ks.eq(register(b, "alice").status, 409)
            ks.eq(b.request("POST", "/users/", {"username": "alicia", "password": "wonderland-42",
                                                "email": "ALICE@example.com"}).status, 409,
                  "e-mail addresses are unique whatever their case")
            # A reset token used on b is refused on a; an older one superseded.
            ks.eq(a.request("POST", "/password_recoveries/", {"username": "alice"}).status, 201)
            first = a.reset_token("alice", 0)
            ks.eq(b.request("POST", "/password_recoveries/", {"username": "alice"}).status, 201)
            token = b.reset_token("alice", 0)
            patch = [{"op": "replace", "path": "/password", "value": "looking-glass-7"}]
            ks.expect_problem(a.request("PATCH", "/users/alice/", patch,
                                        {"Authorization": "Bearer " + first}),
                              401, "Bad authorization")
            ks.eq(a.request("PATCH", "/users/alice/", patch,
                            {"Authorization": "Bearer " + token}).status, 204, "used on a")
            ks.expect_problem(b.request("PATCH", "/users/alice/", patch,
                                        {"Authorization": "Bearer " + token}),
                              401, "Bad authorization")
            # A user locked out on a is locked out on b.
            for _ in range(5):
                ks.eq(ks.login(a, "alice", "wrong-password").status, 403)
            res = ks.login(b, "alice", "looking-glass-7")
            ks.expect_problem(res, 429, "Too Many Requests")
            ks.check(int(res.headers.get("Retry-After")) > 0, "Retry-After")
        finally:
            ks.eq(a.stop(), 0)
            ks.eq(b.stop(), 0)


def test_concurrent_first_starts_create_one_schema_and_one_root(pg):
    with harness.temp_dir() as d:
        dsn = pg.create_database("together")
        ports = [harness.free_port() for _ in range(3)]
        paths = [ks.write_backend_settings(d, p, pg_backend(dsn), name=f"s{i}.toml")
                 for i, p in enumerate(ports)]
        processes = [harness.Process([harness.tool("kisee"), "--settings", p]) for p in paths]
        try:
            for proc, port in zip(processes, ports):
                harness.wait_for_port(port, process=proc.popen, timeout=60)
            printed = sum("username: root" in proc.stdout() for proc in processes)
            ks.eq(printed, 1, "exactly one instance created root")
            ks.eq(pg.psql("SELECT count(*) FROM kisee_users", db="together"), "1")
            ks.eq(pg.psql("SELECT version FROM kisee_schema", db="together"), "1")
        finally:
            for proc in processes:
                ks.eq(proc.stop(), 0)
                proc.cleanup()


class Load:
    """Client threads logging in and registering new users until stopped,
    recording every answer (or transport failure)."""

    def __init__(self, k, threads=3):
        self.k = k
        self.stop_flag = threading.Event()
        self.lock = threading.Lock()
        self.results = []  # (kind, name, status, retry_after)
        self.failures = []
        self.threads = [threading.Thread(target=self._run, args=(i,)) for i in range(threads)]

    def _run(self, index):
        n = 0
        while not self.stop_flag.is_set():
            n += 1
            try:
                if n % 2:
                    name = f"u{index}x{n}x{uuid.uuid4().hex[:6]}"
                    res = register(self.k, name)
                    kind = "register"
                else:
                    name = "steady"
                    res = ks.login(self.k, "steady", "steady-password-1")
                    kind = "login"
                with self.lock:
                    self.results.append((kind, name, res.status, res.headers.get("Retry-After"),
                                         res.reason))
            except Exception as e:  # noqa: BLE001 -- a reset connection is a finding
                with self.lock:
                    self.failures.append(repr(e))
            time.sleep(0.01)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop_flag.set()
        for t in self.threads:
            t.join(30)

    def count(self, status):
        with self.lock:
            return sum(1 for r in self.results if r[2] == status)


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return time.monotonic()
        time.sleep(0.1)
    raise AssertionError(f"{what} not within {timeout}s")


def test_database_stopped_under_load_and_started_again(pg):
    with harness.temp_dir() as d:
        dsn = pg.create_database("outage")
        port = harness.free_port()
        smtp = smtp_support.SmtpSink().start()
        k = None
        try:
            settings = ks.write_backend_settings(d, port, pg_backend(dsn),
                                                 ks.email_section(smtp))
            k = ks.Kisee(settings, port)
            ks.eq(k.request("POST", "/users/", {"username": "steady", "password": "steady-password-1",
                                                "email": "steady@example.com"}).status, 201)
            with Load(k) as load:
                time.sleep(1.5)
                ks.check(load.count(201) > 0, "the load works before the outage")
                pg.stop("fast")
                stopped = time.monotonic()
                # /health turns red within 10 s; /health/ready answers 503.
                wait_for(lambda: k.request("GET", "/health").json()["status"] == "red", 10,
                         "/health red")
                ks.eq(k.request("GET", "/health").status, 200)
                ks.eq(k.request("GET", "/health/ready").status, 503)
                # Requests that need the store answer 503 + Retry-After, fast.
                begin = time.monotonic()
                res = ks.login(k, "steady", "steady-password-1")
                ks.expect_problem(res, 503, "Service Unavailable")
                ks.check(int(res.headers.get("Retry-After")) > 0, "Retry-After")
                ks.check(time.monotonic() - begin < 3, "503 within the 2 s timeout")
                # A recovery is still accepted, and its job waits for the store.
                res = k.request("POST", "/password_recoveries/", {"email": "steady@example.com"})
                ks.eq((res.status, res.body), (201, b""), "recovery accepted while down")
                time.sleep(max(0.0, 3 - (time.monotonic() - stopped)))
                pg.start()
                restarted = time.monotonic()
                wait_for(lambda: ks.login(k, "steady", "steady-password-1").status == 201, 15,
                         "logins back after the restart")
                wait_for(lambda: k.request("GET", "/health").json()["status"] == "green", 10,
                         "/health green again")
                time.sleep(1.0)
            ks.eq(load.failures, [], "no transport failure (no crash, no reset connection)")
            statuses = {r[2] for r in load.results}
            ks.check(statuses <= {201, 503}, f"only 201 and 503 under the outage: {statuses}")
            ks.check(load.count(503) > 0, "the outage was seen")
            for kind, name, status, retry_after, reason in load.results:
                if status == 503:
                    ks.check(retry_after is not None and reason == "Service Unavailable",
                             f"503 with Retry-After: {kind} {name}")
            # No registration answered 201 is lost; none is half-written.
            registered = {r[1] for r in load.results if r[0] == "register" and r[2] == 201}
            attempted = {r[1] for r in load.results if r[0] == "register"}
            rows = set(pg.psql("SELECT username FROM kisee_users WHERE username LIKE 'u%' AND "
                               "password_hash LIKE '$argon2id$%' AND email = username || "
                               "'@example.com'", db="outage").split())
            ks.check(registered <= rows, f"lost users: {registered - rows}")
            ks.check(rows <= attempted, "no user from nowhere")
            total = pg.psql("SELECT count(*) FROM kisee_users WHERE username LIKE 'u%'",
                            db="outage")
            ks.eq(int(total), len(rows), "every stored user is whole")
            # The recovery accepted during the outage was delivered after it.
            mail = smtp.wait_for_message(1, timeout=45)
            ks.eq(mail["to"], ["steady@example.com"])
            ks.check(time.monotonic() - restarted < 60, "delivered after the restart")
            token = ks.token_from_mail(mail)
            res = k.request("PATCH", "/users/steady/",
                            [{"op": "replace", "path": "/password", "value": "after-outage-2"}],
                            {"Authorization": "Bearer " + token})
            ks.eq(res.status, 204, "the token from the outage works")
        finally:
            if k is not None:
                ks.eq(k.stop(), 0, "clean exit after the outage")
            smtp.stop()
            if not pg.running():
                pg.start()


def test_a_database_that_stops_answering_costs_at_most_the_timeout(pg):
    with harness.temp_dir() as d:
        pg.create_database("frozen")
        proxy = proxy_support.FreezingProxy(pg.port)
        port = harness.free_port()
        k = None
        try:
            # The password (ignored by the test server's trust authentication)
            # must never reach the logs.
            dsn = f"postgresql://kisee:dsn-secret-42@127.0.0.1:{proxy.port}/frozen"
            settings = ks.write_backend_settings(d, port, pg_backend(dsn, timeout=2))
            k = ks.Kisee(settings, port)
            root = k.root_password()
            ks.eq(ks.login(k, "root", root).status, 201)
            proxy.frozen.set()
            for _ in range(3):
                begin = time.monotonic()
                res = ks.login(k, "root", root)
                elapsed = time.monotonic() - begin
                ks.expect_problem(res, 503, "Service Unavailable")
                ks.check(elapsed < 4, f"answered in {elapsed:.1f}s with a 2 s timeout")
            wait_for(lambda: k.request("GET", "/health").json()["status"] == "red", 10,
                     "/health red while the database hangs")
            proxy.frozen.clear()
            wait_for(lambda: ks.login(k, "root", root).status == 201, 15, "back when it answers")
            ks.check("dsn-secret-42" not in k.process.stderr() + k.process.stdout(),
                     "the DSN password is never logged")
            ks.check("503" in k.process.stderr(), "the access log saw the 503s")
        finally:
            if k is not None:
                ks.eq(k.stop(), 0)
            proxy.close()


def main():
    # One server for every test (each uses its own database): initdb once.
    with pg_support.postgres() as pg:
        harness.main([_named(f, pg) for f in TESTS])


def _named(f, pg):
    def run():
        f(pg)
    run.__name__ = f.__name__
    return run


TESTS = [test_walk_and_recovery_by_email, test_two_instances_behave_as_one,
         test_concurrent_first_starts_create_one_schema_and_one_root,
         test_database_stopped_under_load_and_started_again,
         test_a_database_that_stops_answering_costs_at_most_the_timeout]

if __name__ == "__main__":
    main()
