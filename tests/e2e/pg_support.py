"""A throw-away PostgreSQL server for the tests: initdb into a temporary
directory, postgres on a free loopback port (its unix socket in that
directory too), stopped and started by the test, removed at the end.

PostgreSQL refuses to run as root: when the tests run as root, its commands
run as the `postgres` account that Debian's postgresql package creates
(runuser), and the directory is handed to that account."""

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time

import harness


def _bin_dir():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL server binaries not found (scripts/install-deps installs them)")
    return os.path.dirname(found[-1])


BIN = _bin_dir()


class Postgres:
    """One PostgreSQL cluster owned by the test. `dsn(db)` is a libpq URI."""

    def __init__(self):
        self.base = tempfile.mkdtemp(prefix="kisee-pg-")
        self.data = os.path.join(self.base, "data")
        self.log = os.path.join(self.base, "server.log")
        self.port = harness.free_port()
        self._as = []
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(self.base, account.pw_uid, account.pw_gid)
            self._as = ["/usr/sbin/runuser", "-u", "postgres", "--"]
        self._run([os.path.join(BIN, "initdb"), "-D", self.data, "-U", "kisee", "-A", "trust",
                   "-E", "UTF8", "--no-sync", "--no-instructions"])
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            # Durability is not under test: fsync off makes the server quick
            # to start, stop and write on a loaded machine.
            f.write(f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
                    f"unix_socket_directories = '{self.base}'\nfsync = off\n"
                    "synchronous_commit = off\nfull_page_writes = off\nmax_connections = 60\n"
                    "shared_buffers = 16MB\n")
        self.start()

    def _run(self, args, check=True, timeout=120):
        return subprocess.run(self._as + args, capture_output=True, text=True, check=check,
                              timeout=timeout)

    def start(self):
        self._run([os.path.join(BIN, "pg_ctl"), "-D", self.data, "-l", self.log, "-w", "-t", "60",
                   "start"])

    def stop(self, mode="fast"):
        """Stops the server (its postmaster, found by pg_ctl through our data directory)."""
        self._run([os.path.join(BIN, "pg_ctl"), "-D", self.data, "-m", mode, "-w", "-t", "60",
                   "stop"], check=False)

    def running(self):
        return self._run([os.path.join(BIN, "pg_ctl"), "-D", self.data, "status"],
                         check=False).returncode == 0

    def dsn(self, db="postgres"):
        return f"postgresql://kisee@127.0.0.1:{self.port}/{db}"

    def psql(self, sql, db="postgres"):
        """Runs `sql` with psql; returns its unaligned output."""
        result = subprocess.run([os.path.join(BIN, "psql"), "-X", "-q", "-A", "-t", "-v",
                                 "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.port),
                                 "-U", "kisee", "-d", db, "-c", sql],
                                capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stderr}")
        return result.stdout.strip()

    def create_database(self, name):
        self.psql(f"CREATE DATABASE {name}")
        return self.dsn(name)

    def cleanup(self):
        self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)


@contextlib.contextmanager
def postgres():
    server = Postgres()
    try:
        yield server
    finally:
        server.cleanup()


if __name__ == "__main__":
    start = time.monotonic()
    with postgres() as pg:
        print(pg.dsn(), pg.psql("SELECT version()"), f"{time.monotonic() - start:.1f}s")
