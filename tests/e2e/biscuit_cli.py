"""End-to-end tests of the biscuit CLI: every command, exit codes, bad input."""

import json
import os
import subprocess

import harness
from biscuit_common import cli, expect, keypair

ALLOW_FILE1 = 'resource("file1"); operation("read"); allow if true;'


def test_help_everywhere():
    for cmd in ([], ["keypair"], ["generate"], ["attenuate"], ["inspect"], ["seal"],
                ["generate-third-party-block-request"], ["generate-third-party-block"],
                ["append-third-party-block"]):
        proc = cli(*cmd, "--help")
        expect("Usage" in proc.stdout or "usage" in proc.stdout.lower(), f"no usage for {cmd}")


def test_keypair_forms():
    for alg, prefix in (("ed25519", "ed25519"), ("secp256r1", "secp256r1")):
        private, public = keypair(alg)
        expect(private.startswith(prefix + "-private/"), private)
        expect(public.startswith(prefix + "/"), public)
        derived = cli("keypair", "--from-private-key", private, "--only-public-key").stdout.strip()
        expect(derived == public, f"{derived} != {public}")
        only = cli("keypair", "--key-algorithm", alg, "--only-private-key").stdout.strip()
        expect(only.startswith(prefix + "-private/") and "\n" not in only, only)
    # `ed25519/<hex>` is accepted for a private key, as the reference does.
    private, public = keypair()
    same = cli("keypair", "--from-private-key", "ed25519/" + private.split("/")[1],
               "--only-public-key").stdout.strip()
    expect(same == public, "ed25519/<hex> private key form refused")
    pem = cli("keypair", "--from-private-key", private, "--only-private-key",
              "--key-output-format", "pem").stdout
    expect("BEGIN PRIVATE KEY" in pem, pem)


def test_generate_attenuate_inspect():
    private, public = keypair()
    with harness.temp_dir() as d:
        datalog = os.path.join(d, "authority.datalog")
        with open(datalog, "w") as f:
            f.write('right("file1", "read");\n')
        token = cli("generate", "--private-key", private, datalog).stdout.strip()
        stdin_token = cli("generate", "--private-key", private, "-",
                          input='right("file1", "read");').stdout.strip()
        expect(len(token) > 40 and len(stdin_token) > 40, "no token printed")
        path = os.path.join(d, "token")
        with open(path, "w") as f:
            f.write(token)
        attenuated = cli("attenuate", path, "--block",
                         'check if operation("read");').stdout.strip()
        apath = os.path.join(d, "attenuated")
        with open(apath, "w") as f:
            f.write(attenuated.rstrip("="))  # unpadded input is accepted too

        ok = cli("inspect", apath, "--public-key", public, "--authorize-with", ALLOW_FILE1)
        expect(ok.returncode == 0, ok.stdout)
        expect('check if operation("read")' in ok.stdout, ok.stdout)

        refused = cli("inspect", apath, "--public-key", public, "--authorize-with",
                      'resource("file1"); operation("write"); allow if true;', check=False)
        expect(refused.returncode == 1, "a failed check must exit 1")

        other_private, other_public = keypair()
        bad_key = cli("inspect", apath, "--public-key", other_public, "--authorize-with",
                      ALLOW_FILE1, check=False)
        expect(bad_key.returncode == 1, "a wrong root key must exit 1")

        auth_file = os.path.join(d, "authorizer.datalog")
        with open(auth_file, "w") as f:
            f.write(ALLOW_FILE1)
        as_json = cli("inspect", apath, "--public-key", public, "--authorize-with-file",
                      auth_file, "--json", "--query", "data($r) <- right($r, $op)")
        doc = json.loads(as_json.stdout)
        expect(doc["authorization"]["result"] == "ok", doc)
        expect(len(doc["blocks"]) == 2 and doc["sealed"] is False, doc)
        expect(doc["query"]["results"] == ['data("file1")'], doc)

        # Raw input/output.
        raw = os.path.join(d, "raw.bc")
        proc = subprocess.run(
            [harness.tool("biscuit"), "generate", "--private-key", private, "--raw", datalog],
            capture_output=True, timeout=30)
        expect(proc.returncode == 0, proc.stderr)
        with open(raw, "wb") as f:
            f.write(proc.stdout)
        raw_ok = cli("inspect", "--raw-input", raw, "--public-key", public, "--authorize-with",
                     ALLOW_FILE1)
        expect(raw_ok.returncode == 0, raw_ok.stderr)


def test_limits_and_time():
    private, public = keypair()
    with harness.temp_dir() as d:
        path = os.path.join(d, "t")
        with open(path, "w") as f:
            f.write(cli("generate", "--private-key", private, "--add-ttl", "1h", "-",
                        input='n(0);').stdout)
        expired = cli("inspect", path, "--public-key", public, "--authorize-with",
                      "allow if true;", check=False)
        expect(expired.returncode == 1, "the ttl check needs time(): without it the check fails")
        fresh = cli("inspect", path, "--public-key", public, "--include-time",
                    "--authorize-with", "allow if true;")
        expect(fresh.returncode == 0, fresh.stdout)
        limited = cli("inspect", path, "--public-key", public, "--include-time", "--max-facts",
                      "10", "--max-time", "100", "--authorize-with",
                      "n($x) <- n($y), $x === $y + 1, $y < 100; allow if true;", check=False)
        expect(limited.returncode == 1, "rules that never stop must hit a run limit")


def test_seal_and_third_party():
    private, public = keypair()
    tp_private, tp_public = keypair("secp256r1")
    with harness.temp_dir() as d:
        path = os.path.join(d, "t")
        with open(path, "w") as f:
            f.write(cli("generate", "--private-key", private, "-",
                        input=f'check if group("admin") trusting {tp_public};').stdout)
        request = cli("generate-third-party-block-request", path).stdout.strip()
        rpath = os.path.join(d, "request")
        with open(rpath, "w") as f:
            f.write(request)
        block = cli("generate-third-party-block", rpath, "--private-key", tp_private,
                    "--block", 'group("admin");').stdout.strip()
        appended = cli("append-third-party-block", path, "--block-contents", block).stdout.strip()
        apath = os.path.join(d, "appended")
        with open(apath, "w") as f:
            f.write(appended)
        ok = cli("inspect", apath, "--public-key", public, "--authorize-with", "allow if true;")
        expect("External signature by: " + tp_public in ok.stdout, ok.stdout)
        sealed = cli("seal", apath).stdout.strip()
        spath = os.path.join(d, "sealed")
        with open(spath, "w") as f:
            f.write(sealed)
        info = cli("inspect", spath, "--public-key", public, "--authorize-with", "allow if true;")
        expect("Sealed biscuit" in info.stdout, info.stdout)
        again = cli("attenuate", spath, "--block", "check if true;", check=False)
        expect(again.returncode == 1 and "AppendOnSealed" in again.stderr, again.stderr)


def test_bad_input_is_one_line_error():
    private, public = keypair()
    cases = [
        (["inspect", "-"], "not base64 at all!"),
        (["inspect", "-"], "AAAA"),
        (["generate", "--private-key", private, "-"], "this is not datalog"),
        (["generate", "--private-key", "ed25519-private/zz", "-"], 'a(1);'),
        (["attenuate", "-", "--block", "check if true;"], "@@@"),
        (["seal", "-"], ""),
    ]
    for args, stdin in cases:
        proc = cli(*args, input=stdin, check=False)
        expect(proc.returncode != 0, f"{args} accepted {stdin!r}")
        lines = [l for l in proc.stderr.splitlines() if l.strip()]
        expect(len(lines) == 1 and lines[0].startswith("error: "), f"{args}: {proc.stderr!r}")
    unknown = cli("frobnicate", check=False)
    expect(unknown.returncode != 0, "unknown command accepted")


if __name__ == "__main__":
    harness.main([test_help_everywhere, test_keypair_forms, test_generate_attenuate_inspect,
                  test_limits_and_time, test_seal_and_third_party,
                  test_bad_input_is_one_line_error])
