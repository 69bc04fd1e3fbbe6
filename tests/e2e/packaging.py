"""What packaging/ and the install rules promise: `cmake --install` gives a
tree whose kisee finds its modules beside it (no KISEE_MODULE_DIR), every
tool answers --help, and the nginx example in front of kisee serves the API
over TLS, the client's address reaching kisee's per-address limits."""

import http.client
import json
import os
import re
import ssl
import subprocess

import harness
import kisee_support as ks

TOOLS = ("kisee", "kisee-quickstart", "certified", "message", "biscuit")
MODULES = ("kisee-postgresql.so", "kisee-ldap.so", "kisee-smtp.so")
BUILD_DIR = os.path.dirname(os.path.abspath(harness.BIN_DIR))


def install(prefix):
    harness.run(["cmake", "--install", BUILD_DIR, "--prefix", prefix], check=True, timeout=120)


def test_install_tree_is_complete_and_kisee_finds_its_modules():
    with harness.temp_dir() as d:
        prefix = os.path.join(d, "prefix")
        install(prefix)
        for name in TOOLS:
            path = os.path.join(prefix, "bin", name)
            ks.check(os.access(path, os.X_OK), f"{path} installed and executable")
            result = harness.run([path, "--help"])
            ks.eq(result.returncode, 0, f"{name} --help: {result.stderr}")
        for name in MODULES:
            ks.check(os.path.isfile(os.path.join(prefix, "lib", "kisee", name)), f"module {name}")
        for name in ("include/kisee/idp/plugin.h", "share/doc/kisee/kisee.service",
                     "share/doc/kisee/nginx-kisee.conf", "share/doc/kisee/README.md"):
            ks.check(os.path.isfile(os.path.join(prefix, name)), f"{name} installed")

        port = harness.free_port()
        settings = os.path.join(d, "settings.toml")
        harness.run([os.path.join(prefix, "bin", "kisee-quickstart"), "--yes", "--port", str(port),
                     "--output", settings], check=True)
        with open(settings, "a") as f:
            f.write('\n[email]\nhost = "127.0.0.1"\nsender = "kisee@example.com"\n')
        env = {k: v for k, v in os.environ.items() if k != "KISEE_MODULE_DIR"}
        process = subprocess.Popen([os.path.join(prefix, "bin", "kisee"), "--settings", settings],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        try:
            harness.wait_for_port(port, process=process)
            with open(f"/proc/{process.pid}/maps") as f:
                mapped = {line.split()[-1] for line in f if "/" in line}
            smtp = [path for path in mapped if path.endswith("/kisee-smtp.so")]
            ks.eq(smtp, [os.path.join(prefix, "lib", "kisee", "kisee-smtp.so")],
                  "the installed kisee loads the installed module")
            ks.eq(harness.request(port, "GET", "/health").status, 200)
        finally:
            process.terminate()
            ks.eq(process.wait(timeout=30), 0, "kisee exits 0 on SIGTERM")


def nginx_config(d, nginx_port, kisee_port):
    """packaging/nginx-kisee.conf made runnable by an unprivileged test:
    loopback ports, a self-signed certificate, files under `d`."""
    with open(os.path.join(harness.SOURCE_DIR, "packaging", "nginx-kisee.conf")) as f:
        site = f.read()
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    harness.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-nodes", "-subj", "/CN=localhost", "-days", "1", "-keyout", key, "-out", cert],
                check=True)
    # The plain-HTTP redirect needs port 80: drop that server block.
    site = site[:site.rindex("server {")]
    site = re.sub(r"\n\s*listen \[::\][^\n]*", "", site)
    site = site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{nginx_port} ssl http2;")
    site = site.replace("server 127.0.0.1:8140;", f"server 127.0.0.1:{kisee_port};")
    site = site.replace("/etc/ssl/certs/auth.example.com.pem", cert)
    site = site.replace("/etc/ssl/private/auth.example.com.key", key)
    for needle in (str(nginx_port), str(kisee_port), cert, key):
        ks.check(needle in site, f"the example's shape changed: {needle} not substituted")
    temp = "".join(f"  {kind}_temp_path {d}/{kind};\n"
                   for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    path = os.path.join(d, "nginx.conf")
    with open(path, "w") as f:
        f.write(f"daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n"
                f"events {{ worker_connections 64; }}\n"
                f"http {{\n  access_log off;\n{temp}{site}}}\n")
    return path


def https(port, method, path, body=None, headers=None):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=context)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        res = conn.getresponse()
        return harness.Response(res.status, res.reason, res.headers, res.read())
    finally:
        conn.close()


def limited_settings(d, port, trusted_proxies=None):
    """Quickstart settings whose per-address limit trips after 3 failures
    (the per-username one never does here)."""
    settings = ks.write_quickstart_settings(d, port)
    with open(settings) as f:
        text = f.read()
    if trusted_proxies is not None:
        text = text.replace("[server]\n", f"[server]\ntrusted_proxies = {json.dumps(trusted_proxies)}\n")
    for old, new in (("user_failures = 5\n", "user_failures = 1000\n"),
                     ("address_failures = 100\n", "address_failures = 3\n")):
        ks.check(old in text, f"quickstart writes {old!r}")
        text = text.replace(old, new)
    with open(settings, "w") as f:
        f.write(text)
    return settings


def failed_logins_then_others(call):
    """Three failures claiming 203.0.113.1, then one more from it and one
    claiming 203.0.113.2; returns the last two statuses."""
    wrong = json.dumps({"username": "root", "password": "not the password"})
    for _ in range(3):
        ks.eq(call(wrong, "203.0.113.1").status, 403)
    return call(wrong, "203.0.113.1").status, call(wrong, "203.0.113.2").status


def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy():
    with harness.temp_dir() as d:
        port = harness.free_port()
        k = ks.Kisee(limited_settings(d, port), port)
        try:
            same, other = failed_logins_then_others(
                lambda body, claimed: k.request("POST", "/jwt/", body, {"X-Forwarded-For": claimed}))
            ks.eq((same, other), (429, 429), "one peer, one counter, whatever it claims")
        finally:
            ks.eq(k.stop(), 0)
        os.makedirs(os.path.join(d, "bad"))
        bad = limited_settings(os.path.join(d, "bad"), port, ["127.0.0.1", "localhost"])
        line = ks.start_fails(bad)
        ks.eq(line, f"kisee: {bad}: server.trusted_proxies: 'localhost' is not an IP address or "
                    "CIDR network")


def test_the_nginx_example_serves_kisee_over_tls():
    with harness.temp_dir() as d:
        kisee_port, nginx_port = harness.free_port(), harness.free_port()
        settings = limited_settings(d, kisee_port, ["127.0.0.1"])
        k = ks.Kisee(settings, kisee_port)
        nginx = harness.Process(["nginx", "-e", os.path.join(d, "error.log"), "-p", d,
                                 "-c", nginx_config(d, nginx_port, kisee_port)])
        try:
            harness.wait_for_port(nginx_port, process=nginx.popen)
            password = k.root_password()
            res = https(nginx_port, "POST", "/jwt/",
                        body=json.dumps({"username": "root", "password": password}),
                        headers={"Accept": "application/json"})
            ks.eq(res.status, 201, f"login through nginx: {res!r}")
            ks.check(res.headers["Location"].startswith("/jwt/"), "Location passed through")
            ks.eq(len(res.json()["tokens"]), 1)
            res = https(nginx_port, "GET", "/health")
            ks.eq(res.status, 200)
            ks.eq(res.json()["status"], "green")
            # nginx appends the address it sees; kisee trusts nginx's
            # peer address and counts failures per forwarded client.
            same, other = failed_logins_then_others(
                lambda body, claimed: https(nginx_port, "POST", "/jwt/", body,
                                            {"X-Forwarded-For": claimed}))
            ks.eq((same, other), (429, 403), "counters per client behind the proxy")
        finally:
            nginx.stop()
            nginx.cleanup()
            ks.eq(k.stop(), 0)


if __name__ == "__main__":
    harness.main([test_install_tree_is_complete_and_kisee_finds_its_modules,
                  test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy,
                  test_the_nginx_example_serves_kisee_over_tls])
