"""certified and message end to end: the introduction flow of certified.md §7,
add-client, a person introduced to two organisations, set-org, renew, and
every error case of §3 with its exit status and message."""

import json
import os
import stat

import harness
from certified_common import (ORG_SIGNER, access_log, certified, expect, id_file, init_org,
                              init_person, introduce, message, ok, serve, write_json)


def test_introduction_flow():
    with harness.temp_dir() as tmp:
        cli = init_person(os.path.join(tmp, "cli"))
        srv = init_org(os.path.join(tmp, "srv"))
        with serve(srv, "--app", "echo") as (process, port):
            # The server talks to itself with its own identity.
            expect(message(f"https://127.0.0.1:{port}/echo/self", config=srv), 0,
                   stdout='{"message":"self"}')
            intro = ok("introduce", os.path.join(cli, "id.crt"), config=srv)
            intro_json = os.path.join(tmp, "intro.json")
            with open(intro_json, "w") as f:
                f.write(intro)
            parsed = json.loads(intro)
            assert set(parsed) == {"signed_cert", "ca_cert"}, parsed
            assert intro.startswith('{\n  "signed_cert": "'), intro
            ok("add-service", "test", os.path.join(srv, "CA.crt"), "--url", "https://127.0.0.1",
               config=cli)
            # No certificate signed by the server yet.
            expect(message(f"https://test:{port}/echo/123", config=cli), 1,
                   "Unable to find any certificate signed from any authorizers")
            ok("add-intro", intro_json, config=cli)
            assert os.path.exists(id_file(cli)), os.listdir(os.path.join(cli, "id"))
            expect(message(f"https://test:{port}/echo/123", config=cli), 0,
                   stdout='{"message":"123"}')
            # `certified message` is the same command.
            expect(message("message", f"https://test:{port}/echo/abc", config=cli,
                           tool="certified"), 0, stdout='{"message":"abc"}')
            # Bodies: DATA, --json, --yaml (converted), and --pp.
            expect(message(f"https://test:{port}/echo", '{"a": [1, 2]}', config=cli), 0,
                   stdout='{"a":[1,2]}')
            body = write_json(os.path.join(tmp, "b.json"), {"k": "v"})
            expect(message(f"https://test:{port}/echo", "--json", body, config=cli), 0,
                   stdout='{"k":"v"}')
            yaml_body = os.path.join(tmp, "b.yaml")
            with open(yaml_body, "w") as f:
                f.write("n: 3\nok: true\nname: 'x'\nlist: [1.5, null]\n")
            proc = message(f"https://test:{port}/echo", "--yaml", yaml_body, "--pp", config=cli)
            expect(proc, 0)
            assert json.loads(proc.stdout) == {"n": 3, "ok": True, "name": "x", "list": [1.5, None]}
            assert proc.stdout.startswith("{\n  "), proc.stdout
            # Non-2xx: the body on stderr, status % 256.
            expect(message(f"https://test:{port}/missing", config=cli), 404 % 256, "Error: ")
            log = access_log(process)
            assert any(line["client"] == "cn:David Rogers" and line["path"] == "/echo/123"
                       and line["status"] == 200 and len(line["serial"]) == 40
                       and line["cipher"].startswith("TLS_") and "duration_ms" in line
                       for line in log), log


def test_add_client():
    with harness.temp_dir() as tmp:
        cli = init_person(os.path.join(tmp, "cli"))
        srv = init_org(os.path.join(tmp, "srv"))
        ok("add-client", "david", os.path.join(cli, "CA.crt"), config=srv)
        with open(os.path.join(srv, "known_servers", "self.crt")) as src, \
             open(os.path.join(cli, "known_servers", "test.crt"), "w") as dst:
            dst.write(src.read())
        with serve(srv, "--app", "echo") as (_, port):
            expect(message(f"https://127.0.0.1:{port}/echo/hi", config=cli), 0,
                   stdout='{"message":"hi"}')
        # add-client accepts b64-DER too, and refuses a leaf certificate.
        b64 = ok("get-ident", config=cli).strip()
        b64_file = os.path.join(tmp, "id.b64")
        with open(b64_file, "w") as f:
            f.write(b64)
        expect(certified("add-client", "leaf", b64_file, config=srv), 1, "must be a CA certificate")
        signer = json.loads(ok("get-signer", config=cli))["ca_cert"]
        with open(b64_file, "w") as f:
            f.write(signer)
        ok("add-client", "david2", b64_file, config=srv)
        expect(certified("add-client", "david2", b64_file, config=srv), 1, "already exists")
        ok("add-client", "david2", b64_file, "--overwrite", config=srv)


def test_two_organisations_by_alias():
    with harness.temp_dir() as tmp:
        alice = init_person(os.path.join(tmp, "alice"), "Alice Nguyen", "alice@example.org")
        org1 = init_org(os.path.join(tmp, "org1"), "Org One", "Materials")
        org2 = init_org(os.path.join(tmp, "org2"), "Org Two", "Cyber")
        with serve(org1, "--app", "echo") as (_, port1), serve(org2, "--app", "echo") as (_, port2):
            # Org1 gives the port in the service URL, org2 leaves it to the alias URL.
            intro1 = introduce(org1, os.path.join(alice, "id.crt"),
                               "--service", f"materials=https://127.0.0.1:{port1}")
            intro2 = introduce(org2, os.path.join(alice, "id.crt"),
                               "--service", "cyber=https://127.0.0.1")
            ok("add-intro", write_json(os.path.join(tmp, "i1.json"), intro1), config=alice)
            ok("add-intro", write_json(os.path.join(tmp, "i2.json"), intro2), config=alice)
            expect(message("https://materials/echo/one", config=alice), 0, stdout='{"message":"one"}')
            expect(message(f"https://cyber:{port2}/echo/two", config=alice), 0,
                   stdout='{"message":"two"}')
            # The record has a port: giving another is an error.
            expect(message(f"https://materials:{port1}/echo/x", config=alice), 1,
                   "Cannot define port in both")
            # Each record pins its own server CA: org2's port under org1's alias fails.
            with open(os.path.join(alice, "known_servers", "cyber.yaml")) as f:
                record = f.read()
            assert "auths:" in record and "cert:" in record and "url: https://127.0.0.1" in record
            assert record.index("auths:") < record.index("cert:") < record.index("url:")
            listing = ok("list", config=alice)
            assert "materials -> https://127.0.0.1:" in listing and "O=Org Two" in listing, listing


def test_set_org():
    with harness.temp_dir() as tmp:
        cli = init_person(os.path.join(tmp, "cli"))
        srv = init_org(os.path.join(tmp, "srv"))
        intro = write_json(os.path.join(tmp, "intro.json"),
                           introduce(srv, os.path.join(cli, "id.crt")))
        expect(certified("set-org", intro, config=cli), 1, "This function requires --overwrite")
        other = init_person(os.path.join(tmp, "other"), "Other", "o@x.org")
        foreign = write_json(os.path.join(tmp, "foreign.json"),
                             introduce(srv, os.path.join(other, "id.crt")))
        expect(certified("set-org", foreign, "--overwrite", config=cli), 1,
               "new public key does not fit existing id.key")
        ok("set-org", intro, "--overwrite", config=cli)
        for gone in ("CA.key", "CA.crt", "known_servers/self.crt", "known_clients/self.crt"):
            assert not os.path.exists(os.path.join(cli, gone)), gone
        for present in ("known_servers/org.crt", "known_clients/org.crt", "id.crt"):
            assert os.path.exists(os.path.join(cli, present)), present
        with serve(srv, "--app", "echo") as (_, port):
            expect(message(f"https://127.0.0.1:{port}/echo/member", config=cli), 0,
                   stdout='{"message":"member"}')
        # Without a CA the member can no longer introduce anyone.
        expect(certified("introduce", os.path.join(other, "id.crt"), config=cli), 1, "no signing CA")


def test_renew_keeps_introductions_working():
    with harness.temp_dir() as tmp:
        cli = init_person(os.path.join(tmp, "cli"))
        srv = init_org(os.path.join(tmp, "srv"))
        intro = write_json(os.path.join(tmp, "intro.json"),
                           introduce(srv, os.path.join(cli, "id.crt"),
                                     "--service", "test=https://127.0.0.1"))
        ok("add-intro", intro, config=cli)
        before = ok("get-ident", config=cli)
        out = ok("renew", config=cli)
        assert out.startswith("Renewed the identity CN=David Rogers"), out
        assert ok("get-ident", config=cli) != before
        assert len(os.listdir(os.path.join(cli, "retired"))) == 2
        with serve(srv, "--app", "echo") as (_, port):
            # The introduction was made for the previous key, which is kept.
            expect(message(f"https://test:{port}/echo/renewed", config=cli), 0,
                   stdout='{"message":"renewed"}')


def test_error_cases():
    with harness.temp_dir() as tmp:
        d = os.path.join(tmp, "d")
        expect(certified("init", config=d), 1, "Name or org must be provided.")
        expect(certified("init", "--email", "me@home.org", config=d), 1, "Name or org must be provided.")
        expect(certified("init", "Osamu Takeda", config=d), 1, "Host, Email, or URI must also be provided.")
        expect(certified("init", "--org", "O", "--host", "h", config=d), 1,
               "If org is defined, unit must also be defined.")
        expect(certified("init", "--org", "O", "--unit", "U", "--uid", "u", "--host", "h", config=d), 1,
               "If org is defined, uid must not be defined.")
        expect(certified("init", "--org", "O", "--division", "U", "--host", "h", config=d), 2)
        expect(certified("init", "X", "--email", "a@b", "--key-type", "rsa", config=d), 2)
        expect(certified("init", "X", "--host", "bad host!", config=d), 1, "invalid host name")
        ok("init", "Osamu Takeda", "--email", "me@home.org", config=d)
        expect(certified("init", "Osamu Takeda", "--email", "me@home.org", config=d), 1,
               "not empty (use --overwrite)")
        ok("init", "--org", "Fictitious Organization", "--unit", "Fraud Detection", "--host",
           "localhost", "--overwrite", config=d)
        # Every key type.
        for key_type in ("ed25519", "ed448", "secp256r1", "secp384r1", "secp521r1", "secp256k1"):
            ok("init", "K", "--email", "k@x.org", "--key-type", key_type,
               config=os.path.join(tmp, key_type))
        # A missing configuration directory.
        expect(certified("get-ident", config=os.path.join(tmp, "missing")), 1, "does not exist")
        expect(certified("get-ident", env={"CERTIFIED_CONFIG": d}), 0)
        # introduce: a CA, my own CA, garbage.
        expect(certified("introduce", os.path.join(d, "CA.crt"), config=d), 1,
               "Unable to sign for a CA (insufficient path length).")
        garbage = os.path.join(tmp, "garbage")
        with open(garbage, "w") as f:
            f.write("not a certificate\n")
        expect(certified("introduce", garbage, config=d), 1)
        expect(certified("introduce", os.path.join(tmp, "nofile"), config=d), 1, "does not exist")
        # add-intro / set-org with broken JSON.
        expect(certified("add-intro", garbage, config=d), 1, "not a JSON object")
        # add-service: bad URL, bad --auth.
        expect(certified("add-service", "s", os.path.join(d, "CA.crt"), "--url", "127.0.0.1", config=d), 1)
        expect(certified("add-service", "s", os.path.join(d, "CA.crt"), "--url", "https://x?q", config=d),
               1, "must not use query")
        ok("add-service", "s", os.path.join(d, "CA.crt"), config=d)
        with open(os.path.join(d, "known_servers", "s.yaml")) as f:
            assert "url: https://s" in f.read()
        expect(certified("revoke", "xyz", config=d), 1, "Not a serial number")
        # Errors quoting user input with line breaks stay one line (expect checks it).
        with open(garbage + "2", "w") as f:
            f.write("line one\nline two\n")
        expect(certified("revoke", garbage + "2", config=d), 1, "Not a serial number")
        expect(certified("init", "X", "--host", "bad\nhost", config=os.path.join(tmp, "nl")), 1,
               "invalid host name")
        expect(message("https://x/y", "--json", "no\nfile", config=d), 1, "does not exist")
        # Key permissions.
        os.chmod(os.path.join(d, "id.key"), 0o644)
        expect(message("https://127.0.0.1:1/x", config=d), 1, "has compromised file permissions.")
        expect(certified("serve", "--app", "echo", "https://127.0.0.1:1", config=d), 1,
               "has compromised file permissions.")
        os.chmod(os.path.join(d, "id.key"), 0o600)
        mode = stat.S_IMODE(os.stat(os.path.join(d, "CA.key")).st_mode)
        assert mode == 0o600, oct(mode)
        # serve: URL without port, with a path; no app.
        expect(certified("serve", "--app", "echo", "https://127.0.0.1", config=d), 1,
               "URL must define a port.")
        expect(certified("serve", "--app", "echo", "https://127.0.0.1:8000/x", config=d), 1,
               "Cannot serve a sub-path.")
        expect(certified("serve", "https://127.0.0.1:8000", config=d), 2)
        expect(certified("serve", "--app", "nope", config=d), 2)
        # message usage errors.
        expect(message("https://x/y", "{}", "--json", garbage, config=d), 2,
               "Only one of <data> or --json or --yaml allowed.")
        expect(message("https://x/y", "-H", "NoColon", config=d), 2, "Invalid header")
        expect(message("https://x/y", "{not json", config=d), 1, "not valid JSON")
        expect(message("https://127.0.0.1:1/x", config=d), 1)
        expect(message(config=d), 2)
        # biscuits with a key type that cannot sign them.
        expect(certified("biscuit", "mint", "--user", "cn:x", config=os.path.join(tmp, "secp384r1")), 1,
               "cannot sign biscuits")
        # --help everywhere.
        for command in ([], ["init"], ["introduce"], ["add-intro"], ["add-client"], ["add-service"],
                        ["set-org"], ["get-ident"], ["get-signer"], ["list"], ["revoke"], ["crl"],
                        ["renew"], ["serve"], ["message"], ["biscuit"], ["biscuit", "mint"],
                        ["biscuit", "attenuate"], ["biscuit", "inspect"]):
            proc = certified(*command, "--help")
            expect(proc, 0)
            assert "Usage" in proc.stdout or "usage" in proc.stdout.lower(), command
        expect(message("--help"), 0)
        expect(certified(), 2)


if __name__ == "__main__":
    harness.main([test_introduction_flow, test_add_client, test_two_organisations_by_alias,
                  test_set_org, test_renew_keeps_introductions_working, test_error_cases])
