"""The original kisee's test settings (demo backend, secp256k1 key labelled
ES256, hostname https://fakekiseehostname.melty.com): every route of the
contract, the whole password-recovery flow with the token read from stdout."""

import os

import harness
import kisee_support as ks


def test_walk_with_the_original_settings():
    with harness.temp_dir() as d:
        port = harness.free_port()
        settings = ks.write_original_settings(d, port)
        k = ks.Kisee(settings, port)
        try:
            out = k.process.wait_for_output("password: ")
            ks.check(out.startswith("Admin credentials for this session is:\nusername: root\n"),
                     "demo prints the admin credentials")
            ks.walk(k, ks.ORIGINAL_HOSTNAME, k.root_password(), strict_policy=False,
                    store_name="demo")
            ks.check("[passwords]" in k.process.stderr(), "legacy policy warning logged")
        finally:
            ks.eq(k.stop(), 0, "exit code after SIGTERM")


def test_bad_settings_are_one_line_and_exit_1():
    with harness.temp_dir() as d:
        port = harness.free_port()
        settings = ks.write_original_settings(d, port)
        with open(settings) as f:
            text = f.read()
        cases = {
            "missing key": text.replace('iss = "example.com"', ""),
            "bad pem": text.replace("-----BEGIN EC PRIVATE KEY-----\n", "-----BEGIN EC PRIVATE KEY-----\nAAAA"),
            "mismatched public key": text.split("public_key")[0] + "public_key = '''\n"
            + ks.secp256k1_pem_pair(d)[1] + "'''\n",
            "toml syntax": text + "\n[jwt\n",
        }
        for name, bad in cases.items():
            path = f"{d}/bad.toml"
            with open(path, "w") as f:
                f.write(bad)
            res = harness.run([harness.tool("kisee"), "--settings", path], timeout=30)
            ks.eq(res.returncode, 1, f"{name}: exit code")
            lines = [line for line in res.stderr.splitlines() if line.strip()]
            ks.eq(len(lines), 1, f"{name}: one line, got {res.stderr!r}")
            ks.check(lines[0].startswith("kisee: "), lines[0])
        empty = os.path.join(d, "empty")
        os.mkdir(empty)
        res = harness.run([harness.tool("kisee")], cwd=empty, timeout=30,
                          env={"HOME": os.path.join(d, "nohome")})
        if not os.path.exists("/etc/settings.toml"):
            ks.eq(res.returncode, 1, "no settings found")
            ks.eq(res.stderr.strip(), "Failed to locate the settings.toml file.")


if __name__ == "__main__":
    harness.main([test_walk_with_the_original_settings, test_bad_settings_are_one_line_and_exit_1])
