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
        # The reference's JSON: token, signatures_check, auth, query.
        expect(doc["signatures_check"] is True, doc)
        expect(doc["auth"]["result"] == [0, "allow if true"], doc)
        expect(doc["auth"]["policies"] == ["allow if true"], doc)
        expect(len(doc["token"]["blocks"]) == 2 and doc["token"]["sealed"] is False, doc)
        expect(doc["token"]["blocks"][1]["code"] == 'check if operation("read");\n', doc)
        expect(doc["query"]["facts"] == ['data("file1")'], doc)
        expect(doc["query"]["query"] == "data($r) <- right($r, $op)", doc)

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
                      "10", "--max-time", "100ms", "--authorize-with",
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
        expect(f"Block n°1, (third party, signed by {tp_public}):" in ok.stdout, ok.stdout)
        # A query names the third party's key with a pubkey parameter.
        scoped = cli("inspect", apath, "--public-key", public, "--query",
                     "g($g) <- group($g) trusting {k}", "--param", f"k:pubkey={tp_public}")
        expect('g("admin")' in scoped.stdout, scoped.stdout)
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
        expect(len(lines) == 1 and lines[0].startswith("Error: "), f"{args}: {proc.stderr!r}")
    unknown = cli("frobnicate", check=False)
    expect(unknown.returncode != 0, "unknown command accepted")


def write(d, name, content, mode="w"):
    path = os.path.join(d, name)
    with open(path, mode) as f:
        f.write(content)
    return path


def run_raw(*args, input=None):
    """Run the CLI with bytes in and out."""
    return subprocess.run([harness.tool("biscuit"), *args], input=input, capture_output=True,
                          timeout=60)


def test_reference_key_flags():
    """The reference's key flags: --from-file/--from-format/--from-algorithm,
    --key-output-format raw|hex|pem, --private-key-file with
    --private-key-format/--private-key-algorithm, --public-key-file with
    --public-key-format/--public-key-algorithm."""
    for alg in ("ed25519", "secp256r1"):
        private, public = keypair(alg)
        with harness.temp_dir() as d:
            hex_file = write(d, "key.hex", private + "\n")
            pem = cli("keypair", "--from-private-key", private, "--only-private-key",
                      "--key-output-format", "pem").stdout
            pem_file = write(d, "key.pem", pem)
            raw_priv = run_raw("keypair", "--from-private-key", private, "--only-private-key",
                               "--key-output-format", "raw")
            expect(raw_priv.returncode == 0 and len(raw_priv.stdout) == 32, raw_priv)
            raw_file = write(d, "key.raw", raw_priv.stdout, "wb")
            raw_pub = run_raw("keypair", "--from-private-key", private, "--only-public-key",
                              "--key-output-format", "raw")
            expect(len(raw_pub.stdout) == (32 if alg == "ed25519" else 33), raw_pub)
            pub_raw_file = write(d, "pub.raw", raw_pub.stdout, "wb")
            pub_pem = cli("keypair", "--from-private-key", private, "--only-public-key",
                          "--key-output-format", "pem").stdout
            pub_pem_file = write(d, "pub.pem", pub_pem)

            for extra in (["--from-file", hex_file],
                          ["--from-file", pem_file, "--from-format", "pem"],
                          ["--from-file", raw_file, "--from-format", "raw",
                           "--from-algorithm", alg],
                          ["--from-private-key", pem, "--from-format", "pem"]):
                got = cli("keypair", *extra, "--only-public-key").stdout.strip()
                expect(got == public, f"{extra}: {got} != {public}")
            got = cli("keypair", "--from-file", "-", "--only-public-key",
                      input=private).stdout.strip()
            expect(got == public, "--from-file - reads standard input")
            both = cli("keypair", "--from-private-key", private).stdout
            expect(both.startswith("Generating a keypair from the provided private key\n"), both)

            tokens = []
            for extra in (["--private-key-file", hex_file],
                          ["--private-key-file", pem_file, "--private-key-format", "pem"],
                          ["--private-key-file", raw_file, "--private-key-format", "raw",
                           "--private-key-algorithm", alg],
                          ["--private-key", pem, "--private-key-format", "pem"]):
                proc = cli("generate", *extra, "-", input='right("file1");')
                tokens.append(write(d, f"t{len(tokens)}", proc.stdout))
            for token in tokens:
                for key in (["--public-key", public],
                            ["--public-key-file", pub_pem_file, "--public-key-format", "pem"],
                            ["--public-key-file", pub_raw_file, "--public-key-format", "raw",
                             "--public-key-algorithm", alg]):
                    ok = cli("inspect", token, *key, "--authorize-with", "allow if true;")
                    expect(ok.returncode == 0, f"{key}: {ok.stdout}")
            # Raw bytes need their algorithm; a string cannot be raw.
            no_alg = cli("generate", "--private-key-file", raw_file, "--private-key-format",
                         "raw", "-", input="a(1);", check=False)
            expect(no_alg.returncode == 1 and "algorithm" in no_alg.stderr, no_alg.stderr)
            raw_text = cli("inspect", tokens[0], "--public-key", public, "--public-key-format",
                           "raw", check=False)
            expect(raw_text.returncode == 1, raw_text.stderr)


def test_usage_errors_exit_1_with_one_line():
    """clap refuses bad command lines with status 2; so do we."""
    private, public = keypair()
    with harness.temp_dir() as d:
        token = write(d, "t", cli("generate", "--private-key", private, "-",
                                  input="a(1);").stdout)
        for args in (["generate", "-"],  # no private key
                     ["generate", "--private-key", private, "--private-key-file", "x", "-"],
                     ["attenuate", token, "--block", "a(1);", "--block-file", "x"],
                     ["inspect", token, "--query-all"],
                     ["inspect", token, "--public-key", public, "--public-key-file", "x"],
                     ["inspect", token, "--authorize-with", "allow if true;",
                      "--authorize-with-file", "x"],
                     ["inspect", token, "--max-time", "soon"],
                     ["inspect", token, "--max-facts", "many"],
                     ["keypair", "--key-algorithm", "secp256r1", "--from-private-key", private],
                     ["keypair", "--only-public-key", "--only-private-key"],
                     ["keypair", "--key-output-format", "text"],
                     ["generate", "--private-key", private, "--root-key-id", "x", "-"],
                     ["generate", "--private-key", private, "--param", "novalue", "-"],
                     ["generate", "--private-key", private, "--param", "b:bytes=00ff", "-"],
                     ["generate", "--private-key", private, "--param", "n:integer=x", "-"],
                     ["generate", "--private-key", private, "--add-ttl", "tomorrow", "-"],
                     ["append-third-party-block", token],
                     ["frobnicate"], []):
            proc = cli(*args, input="a(1);", check=False)
            expect(proc.returncode == 1, f"{args}: exit {proc.returncode} {proc.stderr}")
            lines = proc.stderr.splitlines()
            expect(len(lines) == 1 and lines[0].startswith("Error: ") and "--help" in lines[0],
                   f"{args}: one line naming --help: {proc.stderr!r}")
        version = cli("-V")
        expect(version.returncode == 0 and version.stdout.strip(), "no -V")


def test_params_as_the_reference():
    private, public = keypair()
    _, other_public = keypair()
    with harness.temp_dir() as d:
        code = ('user({name}); age({age}); happy({happy}); data({b}); born({born}); '
                'r($x) <- k($x) trusting {key};')
        token = write(d, "t", cli(
            "generate", "--private-key", private, "--param", "name=john",
            "--param", "age:integer=42", "--param", "happy:bool=TRUE",
            "--param", "b:bytes=hex:00ff", "--param", "born:date=2020-01-01T01:00:00+01:00",
            "--param", f"key:pubkey={other_public}", "-", input=code).stdout)
        source = json.loads(cli("inspect", token, "--json").stdout)["token"]["blocks"][0]["code"]
        for part in ('user("john");', "age(42);", "happy(true);", "data(hex:00ff);",
                     "born(2020-01-01T00:00:00Z);", f"trusting {other_public}"):
            expect(part in source, f"{part} not in {source}")
        # Parameters reach the authorizer and the query too.
        ok = cli("inspect", token, "--public-key", public, "--param", "who=john",
                 "--authorize-with", "allow if user({who});", "--query",
                 "q($n) <- user($n), age({a})", "--param", "a:integer=42")
        expect(ok.returncode == 0 and 'q("john")' in ok.stdout, ok.stdout)


def test_durations_and_ttl():
    private, public = keypair()
    tp_private, tp_public = keypair()
    with harness.temp_dir() as d:
        token = write(d, "t", cli("generate", "--private-key", private, "--add-ttl", "1h30m",
                                  "-", input="a(1);").stdout)
        code = json.loads(cli("inspect", token, "--json").stdout)["token"]["blocks"][0]["code"]
        expect("check if time($time), $time <= " in code, code)
        dated = write(d, "d", cli("generate", "--private-key", private, "--add-ttl",
                                  "2030-01-01T01:00:00+01:00", "-", input="a(1);").stdout)
        code = json.loads(cli("inspect", dated, "--json").stdout)["token"]["blocks"][0]["code"]
        expect("$time <= 2030-01-01T00:00:00Z" in code, code)
        # generate-third-party-block has --add-ttl too.
        request = write(d, "r", cli("generate-third-party-block-request", token).stdout)
        block = cli("generate-third-party-block", request, "--private-key", tp_private,
                    "--block", "b(1);", "--add-ttl", "2030-01-01T00:00:00Z").stdout
        appended = write(d, "a", cli("append-third-party-block", token, "--block-contents",
                                     block).stdout)
        code = json.loads(cli("inspect", appended, "--json").stdout)["token"]["blocks"][1]["code"]
        expect("$time <= 2030-01-01T00:00:00Z" in code, code)
        # --max-time takes a duration; a bare number is seconds.
        for limit in ("1s", "250ms", "2", "1.5s"):
            ok = cli("inspect", token, "--public-key", public, "--include-time",
                     "--authorize-with", "allow if true;", "--max-time", limit)
            expect(ok.returncode == 0, f"--max-time {limit}: {ok.stderr}")


def test_inspect_output_as_the_reference():
    private, public = keypair()
    with harness.temp_dir() as d:
        token = write(d, "t", cli("generate", "--private-key", private, "--root-key-id", "7",
                                  "-", input='right("file1");').stdout)
        token = write(d, "t2", cli("attenuate", token, "--block",
                                   'check if operation("read");').stdout)
        plain = cli("inspect", token).stdout
        expect(plain.startswith("Open biscuit\nAuthority block (root key identifier: 7):\n"
                                "== Datalog v3."), plain)
        expect("Block n°1:\n== Datalog v3." in plain, plain)
        expect("== Revocation id ==\n" in plain and "\n==========\n" in plain, plain)
        expect("🙈 Public key check skipped 🔑\n🙈 Datalog check skipped 🛡️\n" in plain, plain)

        ok = cli("inspect", token, "--public-key", public, "--authorize-with",
                 'operation("read"); allow if right("file1");').stdout
        expect("✅ Public key check succeeded 🔑\n✅ Authorizer check succeeded 🛡️ (" in ok, ok)
        expect('Matched allow policy: allow if right("file1")\n' in ok, ok)

        refused = cli("inspect", token, "--public-key", public, "--authorize-with",
                      'operation("write"); allow if right("file1");', check=False)
        expect(refused.returncode == 1, refused.stdout)
        expect("❌ Authorizer check failed 🛡️ (" in refused.stdout, refused.stdout)
        expect('An allow policy matched: allow if right("file1")\n'
               "The following checks failed:\n"
               '  Block 1 check: check if operation("read")\n' in refused.stdout, refused.stdout)
        nothing = cli("inspect", token, "--public-key", public, "--authorize-with",
                      'operation("read");', check=False)
        expect(nothing.returncode == 1 and "No policy matched\n" in nothing.stdout,
               nothing.stdout)
        as_json = json.loads(cli("inspect", token, "--public-key", public, "--authorize-with",
                                 'operation("write"); allow if right("file1");', "--json",
                                 check=False).stdout)
        expect(as_json["auth"]["result"] == {"error": {"FailedLogic": {"Unauthorized": {
            "policy": {"Allow": 0},
            "checks": [{"Block": {"block_id": 1, "check_id": 0,
                                  "rule": 'check if operation("read")'}}]}}}}, as_json)
        _, other = keypair()
        bad = cli("inspect", token, "--public-key", other, "--json", check=False)
        expect(bad.returncode == 1 and json.loads(bad.stdout)["signatures_check"] is False,
               bad.stdout)
        expect("❌ Public key check failed 🔑" in cli("inspect", token, "--public-key", other,
                                                     check=False).stdout, "no failure line")
        missing = cli("inspect", token, "--authorize-with", "allow if true;", "--json",
                      check=False)
        expect(missing.returncode == 1 and "error" in json.loads(missing.stdout), missing.stdout)

        # --query without an authorizer queries the token; --include-time alone is harmless.
        query = cli("inspect", token, "--public-key", public, "--query",
                    "data($r) <- right($r)", "--include-time")
        expect(query.returncode == 0, query.stderr)
        expect("🙈 Datalog check skipped" in query.stdout, query.stdout)
        expect('🔎 Running query: data($r) <- right($r) (' in query.stdout
               and 'data("file1")' in query.stdout, query.stdout)
        empty = cli("inspect", token, "--public-key", public, "--query", "data($r) <- nope($r)")
        expect("❌ No results" in empty.stdout, empty.stdout)
        no_key = cli("inspect", token, "--query", "data($r) <- right($r)", check=False)
        expect(no_key.returncode == 1, "a query needs the public key")


def test_tokens_are_printed_without_newline():
    private, _ = keypair()
    out = cli("generate", "--private-key", private, "-", input="a(1);").stdout
    expect(out and not out.endswith("\n"), repr(out[-5:]))


def test_editor():
    """Without Datalog, the reference opens $EDITOR: in a terminal only."""
    import pty
    private, public = keypair()
    with harness.temp_dir() as d:
        no_tty = cli("generate", "--private-key", private, input="", check=False)
        expect(no_tty.returncode == 1 and "interactive terminal" in no_tty.stderr, no_tty.stderr)
        editor = write(d, "editor.sh", '#!/bin/sh\nprintf \'right("edited");\' > "$1"\n')
        os.chmod(editor, 0o755)
        out = os.path.join(d, "token")
        pid, fd = pty.fork()
        if pid == 0:
            os.environ["EDITOR"] = editor
            os.execv(harness.tool("biscuit"), ["biscuit", "generate", "--private-key", private])
        output = b""
        while True:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
        _, status = os.waitpid(pid, 0)
        expect(os.waitstatus_to_exitcode(status) == 0, output)
        write(d, "token", output.decode().strip())
        code = json.loads(cli("inspect", out, "--json").stdout)["token"]["blocks"][0]["code"]
        expect(code == 'right("edited");\n', code)
        conflict = cli("attenuate", "-", input=open(out).read(), check=False)
        expect(conflict.returncode == 1 and "stdin" in conflict.stderr, conflict.stderr)


if __name__ == "__main__":
    harness.main([test_help_everywhere, test_keypair_forms, test_generate_attenuate_inspect,
                  test_limits_and_time, test_seal_and_third_party,
                  test_bad_input_is_one_line_error, test_reference_key_flags,
                  test_usage_errors_exit_1_with_one_line, test_params_as_the_reference, test_durations_and_ttl,
                  test_inspect_output_as_the_reference, test_tokens_are_printed_without_newline,
                  test_editor])
