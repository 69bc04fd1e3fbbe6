"""Runs a test program with a PostgreSQL server of its own: starts one
(pg_support), exports its URI as KISEE_TEST_POSTGRES_DSN, runs the
program with the remaining arguments, stops the server, and exits with
the program's status. Used by ctest for idp_postgresql_test."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pg_support  # noqa: E402


def main():
    with pg_support.postgres() as pg:
        env = dict(os.environ, KISEE_TEST_POSTGRES_DSN=pg.dsn())
        code = subprocess.run(sys.argv[1:], env=env, timeout=600).returncode
    sys.exit(code)


if __name__ == "__main__":
    main()
