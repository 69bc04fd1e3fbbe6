"""A test certificate authority and a server certificate for 127.0.0.1 /
localhost, made with the openssl command line, for the TLS servers the
tests start (SMTP, LDAP)."""

import os
import subprocess


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_certificates(directory):
    """Writes ca.pem, server.pem and server-key.pem into `directory`;
    returns their paths as a dict (ca, cert, key)."""
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "server.ext"), "w") as f:
        f.write("subjectAltName = IP:127.0.0.1, DNS:localhost\n"
                "extendedKeyUsage = serverAuth\nbasicConstraints = CA:FALSE\n")
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "2", "-subj", "/CN=kisee test CA",
             cwd=directory)
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", "server-key.pem", "-out", "server.csr", "-subj", "/CN=localhost",
             cwd=directory)
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
             "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext",
             cwd=directory)
    # slapd may run as another account and must read its key.
    for name in ("ca.pem", "server.pem", "server-key.pem"):
        os.chmod(os.path.join(directory, name), 0o644)
    return {"ca": os.path.join(directory, "ca.pem"),
            "cert": os.path.join(directory, "server.pem"),
            "key": os.path.join(directory, "server-key.pem")}
