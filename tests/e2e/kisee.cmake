# kisee's end-to-end tests (tests/e2e/kisee_*.py): the real kisee and
# kisee-quickstart binaries on loopback ports.
kisee_add_e2e(kisee_walk_demo kisee_walk_demo.py)
kisee_add_e2e(kisee_walk_sqlite kisee_walk_sqlite.py)
kisee_add_e2e(kisee_jwks_pyjwt kisee_jwks_pyjwt.py)
kisee_add_e2e(kisee_two_processes kisee_two_processes.py)
kisee_add_e2e(kisee_sigterm kisee_sigterm.py)
kisee_add_e2e(kisee_make_run kisee_make_run.py)
kisee_add_e2e(kisee_email kisee_email.py)
kisee_add_e2e(kisee_postgresql kisee_postgresql.py)
kisee_add_e2e(kisee_sql kisee_sql.py)
kisee_add_e2e(kisee_ldap kisee_ldap.py)
kisee_add_e2e(kisee_plugin kisee_plugin.py)
kisee_add_e2e(kisee_modules kisee_modules.py)
