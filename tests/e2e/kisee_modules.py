"""kisee loads its heavy client libraries only when the settings use them
(src/idp/module.h): the quickstart server maps neither libcurl, libpq nor
libldap and idles under 15 MB of RSS (architecture.md); the original's
demo settings with an [email] section do not load the SMTP module; a
sqlite store that sends e-mail does; a missing module is a one-line start
error."""

import os
import time

import harness
import kisee_support as ks

HEAVY = ("libcurl", "libpq", "libldap", "libgnutls", "kisee-smtp", "kisee-postgresql",
         "kisee-ldap")


def mapped_libraries(pid):
    with open(f"/proc/{pid}/maps") as f:
        return {line.split()[-1] for line in f if "/" in line}


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_quickstart_maps_no_heavy_client_and_idles_under_15_mb():
    with harness.temp_dir() as d:
        port = harness.free_port()
        settings = ks.write_quickstart_settings(d, port, fast=False)  # the real defaults
        k = ks.Kisee(settings, port)
        try:
            ks.eq(k.request("GET", "/health").status, 200)
            time.sleep(1.0)
            libraries = mapped_libraries(k.process.pid)
            heavy = [lib for lib in libraries if any(h in lib for h in HEAVY)]
            ks.eq(heavy, [], "heavy client libraries mapped by an idle sqlite kisee")
            rss = rss_kib(k.process.pid)
            print(f"idle RSS with the quickstart settings: {rss / 1024:.1f} MB "
                  f"({len(libraries)} files mapped)")
            ks.check(rss < 15 * 1024, f"idle RSS {rss} KiB >= 15 MB")
        finally:
            ks.eq(k.stop(), 0)


def test_the_original_demo_settings_do_not_load_the_smtp_module():
    with harness.temp_dir() as d:
        port = harness.free_port()
        settings = ks.write_original_settings(d, port)  # has an [email] section
        k = ks.Kisee(settings, port)
        try:
            ks.eq(k.request("GET", "/health").status, 200)
            libraries = mapped_libraries(k.process.pid)
            ks.check(not any("libcurl" in lib or "kisee-smtp" in lib for lib in libraries),
                     "the demo backend prints its tokens: no SMTP client")
        finally:
            ks.eq(k.stop(), 0)


def test_a_store_that_sends_mail_loads_the_smtp_module():
    with harness.temp_dir() as d:
        port = harness.free_port()
        settings = ks.write_quickstart_settings(d, port)
        with open(settings, "a") as f:
            f.write('\n[email]\nhost = "127.0.0.1"\nsender = "kisee@example.com"\n')
        k = ks.Kisee(settings, port)
        try:
            libraries = mapped_libraries(k.process.pid)
            ks.check(any(lib.endswith("/lib/kisee/kisee-smtp.so") for lib in libraries),
                     "kisee-smtp.so loaded from <bin>/../lib/kisee")
            ks.check(any("libcurl" in lib for lib in libraries), "with libcurl")
        finally:
            ks.eq(k.stop(), 0)


def test_a_missing_module_is_a_one_line_start_error():
    with harness.temp_dir() as d:
        empty = os.path.join(d, "no-modules")
        os.makedirs(empty)
        port = harness.free_port()
        backend = ('[identity_backend]\nclass = "postgresql"\n[identity_backend.options]\n'
                   'dsn = "postgresql://kisee@127.0.0.1:1/kisee"\n')
        settings = ks.write_backend_settings(d, port, backend)
        result = harness.run([harness.tool("kisee"), "--settings", settings],
                             env={"KISEE_MODULE_DIR": empty}, timeout=60)
        ks.eq(result.returncode, 1, result.stderr)
        lines = [line for line in result.stderr.splitlines() if line.startswith("kisee: ")]
        ks.eq(lines, [f"kisee: module {empty}/kisee-postgresql.so: not found (is kisee fully "
                      "installed?)"], "one line naming the module")


if __name__ == "__main__":
    harness.main([test_quickstart_maps_no_heavy_client_and_idles_under_15_mb,
                  test_the_original_demo_settings_do_not_load_the_smtp_module,
                  test_a_store_that_sends_mail_loads_the_smtp_module,
                  test_a_missing_module_is_a_one_line_start_error])
