"""certified with real third-party tools and peers: openssl verify / x509 /
req / crl / s_server, curl against `certified serve`, revocation, scope
policies, the reverse proxy in front of an upstream this test runs, and
biscuits minted and attenuated by `certified biscuit`."""

import base64
import json
import os
import signal
import subprocess
import sys
import textwrap

import harness
from certified_common import (ORG_SIGNER, certified, expect, id_file, init_org, init_person,
                              introduce, message, ok, serve, wait_for, write_json)

UPSTREAM = textwrap.dedent("""
    import http.server, json, sys

    class Echo(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode()
            out = json.dumps({"method": self.command, "path": self.path, "body": body,
                              "headers": [[k, v] for k, v in self.headers.items()]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-Upstream", "yes")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        do_GET = do_POST = do_PUT = do_DELETE = answer

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Echo)
    print("ready", flush=True)
    server.serve_forever()
""")


def b64der_to_pem(text):
    der = base64.b64decode(text, altchars=b"-_", validate=True)
    body = base64.encodebytes(der).decode().replace("\n", "")
    lines = "\n".join(body[i:i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN CERTIFICATE-----\n{lines}\n-----END CERTIFICATE-----\n"


def introduced_client(tmp, srv, name, *extra):
    """A person directory introduced to `srv` (with alias "srv"); returns
    (config, introduction)."""
    cli = init_person(os.path.join(tmp, name), name, f"{name}@example.org")
    intro = introduce(srv, os.path.join(cli, "id.crt"), "--service", "srv=https://127.0.0.1", *extra)
    ok("add-intro", write_json(os.path.join(tmp, f"{name}.json"), intro), config=cli)
    return cli, intro


def test_openssl_reads_our_certificates_and_crl():
    with harness.temp_dir() as tmp:
        srv = init_org(os.path.join(tmp, "srv"))
        cli, intro = introduced_client(tmp, srv, "alice", "--scope", "admin", "--scope", "read")
        ca = os.path.join(srv, "CA.crt")
        proc = harness.run(["openssl", "verify", "-CAfile", ca, id_file(cli)])
        assert proc.returncode == 0 and ": OK" in proc.stdout, proc.stdout + proc.stderr
        proc = harness.run(["openssl", "verify", "-CAfile", os.path.join(cli, "CA.crt"),
                            os.path.join(cli, "id.crt")])
        assert proc.returncode == 0, proc.stderr
        text = harness.run(["openssl", "x509", "-noout", "-text", "-in", id_file(cli)]).stdout
        assert "Explicit Text: admin" in text and "Explicit Text: read" in text, text
        assert "Policy: 2.25.299590523108923512796728619249924683213" in text, text
        assert "X509v3 Basic Constraints: critical\n                CA:FALSE" in text, text
        ca_text = harness.run(["openssl", "x509", "-noout", "-text", "-in", ca]).stdout
        assert "CA:TRUE, pathlen:0" in ca_text and "Certificate Sign, CRL Sign" in ca_text, ca_text
        # A CSR made by openssl is introduced (its signature is checked).
        key = os.path.join(tmp, "csr.key")
        harness.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                     "-out", key], check=True)
        csr = os.path.join(tmp, "req.csr")
        harness.run(["openssl", "req", "-new", "-key", key, "-subj", "/CN=From OpenSSL",
                     "-addext", "subjectAltName=DNS:example.org", "-out", csr], check=True)
        signed = json.loads(ok("introduce", csr, config=srv))["signed_cert"]
        signed_pem = os.path.join(tmp, "signed.pem")
        with open(signed_pem, "w") as f:
            f.write(b64der_to_pem(signed))
        proc = harness.run(["openssl", "verify", "-CAfile", ca, signed_pem])
        assert proc.returncode == 0, proc.stderr
        assert "DNS:example.org" in harness.run(["openssl", "x509", "-noout", "-text", "-in",
                                                 signed_pem]).stdout
        # certified's own CSR (get-ident --csr) is read by openssl and introduced.
        own_csr = os.path.join(tmp, "own.csr")
        with open(own_csr, "w") as f:
            f.write(ok("get-ident", "--csr", config=cli))
        proc = harness.run(["openssl", "req", "-in", own_csr, "-noout", "-verify", "-subject"])
        assert proc.returncode == 0 and "CN = alice" in proc.stdout, proc.stdout + proc.stderr
        assert json.loads(ok("introduce", own_csr, config=srv))["signed_cert"]
        # The same request with one letter of its subject changed: the signature fails.
        der = subprocess.run(["openssl", "req", "-in", csr, "-outform", "DER"], check=True,
                             capture_output=True).stdout
        assert b"From OpenSSL" in der
        body = base64.encodebytes(der.replace(b"From OpenSSL", b"From OpenSSM")).decode()
        with open(csr, "w") as f:
            f.write(f"-----BEGIN CERTIFICATE REQUEST-----\n{body}-----END CERTIFICATE REQUEST-----\n")
        expect(certified("introduce", csr, config=srv), 1, "signature is invalid")
        # The CRL lists a revoked serial and verifies with the CA.
        signed_file = os.path.join(tmp, "alice.b64")
        with open(signed_file, "w") as f:
            f.write(intro["signed_cert"])
        revoked = ok("revoke", signed_file, config=srv).strip()
        crl = os.path.join(tmp, "ca.crl")
        with open(crl, "w") as f:
            f.write(ok("crl", config=srv))
        proc = harness.run(["openssl", "crl", "-in", crl, "-noout", "-text", "-CAfile", ca])
        assert proc.returncode == 0 and "verify OK" in proc.stderr + proc.stdout, proc.stderr
        serial = revoked.split()[1].rstrip(".")
        assert serial.lstrip("0").upper() in proc.stdout.replace(":", "").upper(), proc.stdout
        proc = harness.run(["openssl", "verify", "-crl_check", "-CAfile", ca, "-CRLfile", crl,
                            id_file(cli)])
        assert proc.returncode != 0 and "revoked" in proc.stdout + proc.stderr, proc.stdout


def test_curl_against_serve():
    with harness.temp_dir() as tmp:
        srv = init_org(os.path.join(tmp, "srv"))
        cli, _ = introduced_client(tmp, srv, "bob")
        with serve(srv, "--app", "echo") as (_, port):
            url = f"https://127.0.0.1:{port}/echo/curl"
            proc = harness.run(["curl", "-sS", "--cert", id_file(cli), "--key", os.path.join(cli, "id.key"),
                                "--cacert", os.path.join(srv, "CA.crt"), url])
            assert proc.returncode == 0 and proc.stdout == '{"message":"curl"}', proc.stdout + proc.stderr
            # No client certificate: the handshake fails.
            proc = harness.run(["curl", "-sS", "--cacert", os.path.join(srv, "CA.crt"), url])
            assert proc.returncode != 0, proc.stdout
            # TLS 1.2 is refused.
            proc = harness.run(["curl", "-sS", "--tls-max", "1.2", "--cert", id_file(cli), "--key",
                                os.path.join(cli, "id.key"), "--cacert", os.path.join(srv, "CA.crt"), url])
            assert proc.returncode != 0, proc.stdout
            # A client whose CA the server does not trust is refused.
            proc = harness.run(["curl", "-sS", "--cert", os.path.join(cli, "id.crt"), "--key",
                                os.path.join(cli, "id.key"), "--cacert", os.path.join(srv, "CA.crt"), url])
            assert proc.returncode != 0, proc.stdout
            info = harness.run(["curl", "-sS", "--cert", id_file(cli), "--key", os.path.join(cli, "id.key"),
                                "--cacert", os.path.join(srv, "CA.crt"), f"https://127.0.0.1:{port}/nope"])
            assert '"Not Found"' in info.stdout, info.stdout


def test_message_against_openssl_s_server():
    with harness.temp_dir() as tmp:
        srv = init_org(os.path.join(tmp, "srv"))
        cli = init_person(os.path.join(tmp, "cli"))
        with open(os.path.join(srv, "CA.crt")) as src, \
             open(os.path.join(cli, "known_servers", "srv.crt"), "w") as dst:
            dst.write(src.read())
        for trusted, expected in ((os.path.join(cli, "CA.crt"), 0), (os.path.join(srv, "CA.crt"), 1)):
            port = harness.free_port()
            server = harness.Process(["openssl", "s_server", "-accept", str(port), "-naccept", "1",
                                      "-cert", os.path.join(srv, "id.crt"), "-key", os.path.join(srv, "id.key"),
                                      "-CAfile", trusted, "-Verify", "1", "-verify_return_error",
                                      "-tls1_3", "-www"], stdin=subprocess.PIPE)
            try:
                server.wait_for_output("ACCEPT", timeout=20)
                proc = message(f"https://127.0.0.1:{port}/", config=cli)
                expect(proc, expected)
                if expected == 0:
                    # s_server's page shows the session and the client certificate it verified.
                    assert "Protocol  : TLSv1.3" in proc.stdout, proc.stdout
                    assert "Verify return code: 0 (ok)" in proc.stdout, proc.stdout
                    assert "Client certificate" in proc.stdout, proc.stdout
            finally:
                server.cleanup()
        # Hostname checking: the server's certificate names 127.0.0.1, not localhost.
        port = harness.free_port()
        server = harness.Process(["openssl", "s_server", "-accept", str(port), "-naccept", "1",
                                  "-cert", os.path.join(srv, "id.crt"), "-key", os.path.join(srv, "id.key"),
                                  "-tls1_3", "-www"], stdin=subprocess.PIPE)
        try:
            server.wait_for_output("ACCEPT", timeout=20)
            expect(message(f"https://localhost:{port}/", config=cli), 1)
        finally:
            server.cleanup()


def test_revoked_client_is_refused():
    with harness.temp_dir() as tmp:
        srv = init_org(os.path.join(tmp, "srv"))
        carol, carol_intro = introduced_client(tmp, srv, "carol")
        dave, _ = introduced_client(tmp, srv, "dave")
        with serve(srv, "--app", "echo") as (process, port):
            expect(message(f"https://srv:{port}/echo/1", config=carol), 0)
            cert_file = os.path.join(tmp, "carol.b64")
            with open(cert_file, "w") as f:
                f.write(carol_intro["signed_cert"])
            ok("revoke", cert_file, config=srv)
            process.signal(signal.SIGHUP)  # re-read known_clients/ and the CRL
            assert wait_for(lambda: message(f"https://srv:{port}/echo/2", config=carol).returncode == 1), \
                "revoked client still accepted"
            expect(message(f"https://srv:{port}/echo/3", config=dave), 0, stdout='{"message":"3"}')
        # A server started after the revocation refuses at once.
        with serve(srv, "--app", "echo") as (_, port):
            expect(message(f"https://srv:{port}/echo/4", config=carol), 1)
            expect(message(f"https://srv:{port}/echo/5", config=dave), 0)


def test_scope_policy():
    with harness.temp_dir() as tmp:
        srv = init_org(os.path.join(tmp, "srv"))
        admin, _ = introduced_client(tmp, srv, "admin", "--scope", "admin")
        reader, _ = introduced_client(tmp, srv, "reader", "--scope", "read")
        policy = os.path.join(tmp, "policy.dl")
        with open(policy, "w") as f:
            f.write('allow if scope("admin");\n')
        with serve(srv, "--app", "info", "--policy", policy) as (_, port):
            proc = message(f"https://srv:{port}/info", config=admin)
            expect(proc, 0)
            info = json.loads(proc.stdout)
            assert info["client"] == "cn:admin" and info["scopes"] == ["admin"], info
            proc = message(f"https://srv:{port}/info", config=reader)
            expect(proc, 403 % 256, '"Forbidden"')
        bad = os.path.join(tmp, "bad.dl")
        with open(bad, "w") as f:
            f.write("allow if (((\n")
        expect(certified("serve", "--app", "echo", "--policy", bad, "https://127.0.0.1:1", config=srv), 1,
               "invalid policy")


def test_reverse_proxy():
    with harness.temp_dir() as tmp:
        srv = init_org(os.path.join(tmp, "srv"))
        cli, _ = introduced_client(tmp, srv, "erin", "--scope", "admin", "--scope", "write")
        up_port = harness.free_port()
        upstream = harness.Process([sys.executable, "-c", UPSTREAM, str(up_port)])
        try:
            upstream.wait_for_output("ready", timeout=20)
            with serve(srv, "--upstream", f"http://127.0.0.1:{up_port}") as (process, port):
                proc = message(f"https://srv:{port}/api/items?x=1", '{"n": 1}', "-X", "PUT",
                               "-H", "X-Certified-Client: uid:root", "-H", "x-certified-scopes: everything",
                               "-H", "X-Certified-Serial: 00", "-H", "X_Certified_Client: uid:root",
                               "-H", "x-certified_scopes: everything", "-H", "X-Other: kept", config=cli)
                expect(proc, 0)
                seen = json.loads(proc.stdout)
                headers = {}
                for name, value in seen["headers"]:
                    # As CGI/WSGI applications see them: '_' and '-' alike.
                    headers.setdefault(name.lower().replace("_", "-"), []).append(value)
                assert seen["method"] == "PUT" and seen["path"] == "/api/items?x=1", seen
                assert seen["body"] == '{"n":1}', seen
                assert headers["x-certified-client"] == ["cn:erin"], headers
                assert headers["x-certified-scopes"] == ["admin,write"], headers
                assert len(headers["x-certified-serial"]) == 1 and len(headers["x-certified-serial"][0]) == 40
                assert headers["x-other"] == ["kept"], headers
                # curl through the proxy sees the upstream's answer and headers.
                proc = harness.run(["curl", "-sS", "-i", "--cert", id_file(cli), "--key",
                                    os.path.join(cli, "id.key"), "--cacert", os.path.join(srv, "CA.crt"),
                                    f"https://127.0.0.1:{port}/hello"])
                assert proc.returncode == 0 and "x-upstream: yes" in proc.stdout.lower(), proc.stdout
            # With the upstream gone, the proxy answers 502.
            upstream.stop()
            with serve(srv, "--upstream", f"http://127.0.0.1:{up_port}") as (_, port):
                expect(message(f"https://srv:{port}/x", config=cli), 502 % 256)
        finally:
            upstream.cleanup()


def test_biscuits_with_serve():
    with harness.temp_dir() as tmp:
        srv = init_org(os.path.join(tmp, "srv"))
        cli, _ = introduced_client(tmp, srv, "frank")
        token = ok("biscuit", "mint", "--user", "cn:frank", "--hours", "1", config=srv).strip()
        inspected = ok("biscuit", "inspect", token, config=srv)
        assert 'user("cn:frank")' in inspected and "check if time($time)" in inspected, inspected
        get_only = ok("biscuit", "attenuate", token, "--block", 'check if operation("GET");').strip()
        # Every command takes --config, even one that needs no key.
        assert ok("biscuit", "attenuate", token, "--block", 'check if operation("GET");',
                  config=srv).strip() != token
        post_only = ok("biscuit", "attenuate", token, "--block", 'check if operation("POST");').strip()
        for_other = ok("biscuit", "attenuate", token, "--block", 'check if client("cn:someone");').strip()
        proc = certified("biscuit", "inspect", post_only, "--authorize-with",
                         'operation("GET"); allow if user($u);', config=srv)
        expect(proc, 1)
        with serve(srv, "--app", "echo", "--require-biscuit") as (_, port):
            url = f"https://srv:{port}/echo/b"
            expect(message(url, config=cli), 401 % 256,
                   'Required header \\"Biscuit: urlsafe-b64-encoded-value\\" not found.')
            expect(message(url, "-H", "Biscuit: bm90LWEtdG9rZW4=", config=cli), 401 % 256, "invalid format.")
            expect(message(url, "-H", f"Biscuit: {token}", config=cli), 0, stdout='{"message":"b"}')
            expect(message(url, "-H", f"Authorization: Bearer {get_only}", config=cli), 0)
            expect(message(url, "-H", f"Biscuit: {post_only}", config=cli), 403 % 256, "Forbidden")
            expect(message(f"https://srv:{port}/echo", "{}", "-H", f"Biscuit: {post_only}", config=cli), 0)
            expect(message(url, "-H", f"Biscuit: {for_other}", config=cli), 403 % 256)
            # A token from another root key is not accepted.
            other = init_org(os.path.join(tmp, "other"), "Other", "Unit")
            foreign = ok("biscuit", "mint", "--user", "cn:frank", config=other).strip()
            expect(message(url, "-H", f"Biscuit: {foreign}", config=cli), 401 % 256, "invalid format.")


if __name__ == "__main__":
    harness.main([test_openssl_reads_our_certificates_and_crl, test_curl_against_serve,
                  test_message_against_openssl_s_server, test_revoked_client_is_refused,
                  test_scope_policy, test_reverse_proxy, test_biscuits_with_serve])
