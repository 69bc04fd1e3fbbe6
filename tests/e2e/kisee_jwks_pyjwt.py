"""A third-party JWT library (PyJWT, Debian's python3-jwt) verifies a login
token using nothing but kisee's JWKS endpoint."""

import subprocess

import harness
import kisee_support as ks

# Run with Debian's interpreter: python3-jwt is installed there, whatever
# python3 runs the test suite.
VERIFY = r"""
import json, sys, jwt
url, token, issuer = sys.argv[1:4]
client = jwt.PyJWKClient(url)
key = client.get_signing_key_from_jwt(token)
claims = jwt.decode(token, key.key, algorithms=["ES256"], issuer=issuer)
print(json.dumps(claims))
"""


def test_pyjwt_verifies_with_jwks_only():
    with harness.temp_dir() as d:
        port = harness.free_port()
        settings = ks.write_quickstart_settings(d, port)
        k = ks.Kisee(settings, port)
        try:
            res = ks.login(k, "root", k.root_password())
            ks.eq(res.status, 201)
            token = res.json()["tokens"][0]
            url = f"http://127.0.0.1:{port}/.well-known/jwks.json"
            out = subprocess.run(["/usr/bin/python3", "-c", VERIFY, url, token,
                                  f"http://127.0.0.1:{port}"],
                                 capture_output=True, text=True, timeout=60)
            ks.eq(out.returncode, 0, f"PyJWT verification: {out.stderr}")
            import json
            claims = json.loads(out.stdout)
            ks.eq(claims["sub"], "root")
            # A tampered token is refused by the same client.
            tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
            bad = subprocess.run(["/usr/bin/python3", "-c", VERIFY, url, tampered,
                                  f"http://127.0.0.1:{port}"],
                                 capture_output=True, text=True, timeout=60)
            ks.check(bad.returncode != 0, "PyJWT refuses a tampered token")
        finally:
            ks.eq(k.stop(), 0)


if __name__ == "__main__":
    harness.main([test_pyjwt_verifies_with_jwks_only])
