"""A configuration directory made by the original Python tool must work with
ours and the reverse. The original itself is not part of this repository, so
this test reads and writes directories with the library the original is built
on (python3-cryptography, PyYAML) following the original's documented
formats: PEM PKCS#8 keys with mode 0600, PEM certificates, b64-DER
(base64 with '-_', padded), RFC 4514 names as cryptography prints them with
the original's short names, service records as yaml.dump writes them."""

import base64
import datetime
import json
import os

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

import harness
from certified_common import (expect, init_org, init_person, introduce, message, ok, serve,
                              write_json)

# The short names the original passes to rfc4514_string (certified.md §1).
OVERRIDES = {
    NameOID.PSEUDONYM: "P", NameOID.DN_QUALIFIER: "DQ", NameOID.SERIAL_NUMBER: "S",
    NameOID.EMAIL_ADDRESS: "E", NameOID.TITLE: "T", NameOID.SURNAME: "SUR",
    NameOID.GIVEN_NAME: "NAME", x509.ObjectIdentifier("2.5.4.43"): "IN",
    NameOID.GENERATION_QUALIFIER: "GEN",
}


def rfc4514(name):
    return name.rfc4514_string(OVERRIDES)


def b64der_decode(text):
    return base64.b64decode(text, altchars=b"-_", validate=True)


def b64der_encode(der):
    return base64.b64encode(der, altchars=b"-_").decode()


def verify_issued(cert, issuer):
    """cert was signed by issuer (cryptography 38 has no verify_directly_issued_by)."""
    assert cert.issuer == issuer.subject, (cert.issuer, issuer.subject)
    key = issuer.public_key()
    if isinstance(key, ed25519.Ed25519PublicKey):
        key.verify(cert.signature, cert.tbs_certificate_bytes)
    else:
        key.verify(cert.signature, cert.tbs_certificate_bytes,
                   ec.ECDSA(cert.signature_hash_algorithm))


def load_cert(path):
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


def write_key(path, key):
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)


def write_cert(path, cert):
    with open(path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))


def python_directory(path, name, san, key_type="ed25519"):
    """A directory laid out as the original's `certified init` makes it."""
    def new_key():
        return ed25519.Ed25519PrivateKey.generate() if key_type == "ed25519" \
            else ec.generate_private_key(ec.SECP256R1())
    algorithm = None if key_type == "ed25519" else hashes.SHA256()
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, id_key = new_key(), new_key()
    ca_name = x509.Name(list(name) + [x509.NameAttribute(NameOID.PSEUDONYM, "Signing Certificate")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=365))
          .add_extension(ca_ski, critical=False)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False),
                         critical=True)
          .sign(ca_key, algorithm))
    ident = (x509.CertificateBuilder().subject_name(name).issuer_name(ca_name)
             .public_key(id_key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=365))
             .add_extension(x509.SubjectKeyIdentifier.from_public_key(id_key.public_key()), critical=False)
             .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
             .add_extension(x509.KeyUsage(True, False, True, False, False, False, False, False, False),
                            critical=True)
             .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH,
                                                   ExtendedKeyUsageOID.SERVER_AUTH,
                                                   ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
             .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
                            critical=False)
             .add_extension(x509.SubjectAlternativeName(san), critical=False)
             .sign(ca_key, algorithm))
    os.makedirs(path)
    write_key(os.path.join(path, "CA.key"), ca_key)
    write_cert(os.path.join(path, "CA.crt"), ca)
    write_key(os.path.join(path, "id.key"), id_key)
    write_cert(os.path.join(path, "id.crt"), ident)
    for folder in ("known_servers", "known_clients"):
        os.makedirs(os.path.join(path, folder))
        write_cert(os.path.join(path, folder, "self.crt"), ca)
    return path


def test_our_directory_reads_as_the_originals():
    with harness.temp_dir() as tmp:
        srv = init_org(os.path.join(tmp, "srv"), "Fictitious Organization", "Fraud Detection",
                       "--domain", "example.org")
        cli = init_person(os.path.join(tmp, "cli"), "Dave, \"the\" <Admin>+1 ", "d@x.org")
        for d in (srv, cli):
            for key in ("CA.key", "id.key"):
                with open(os.path.join(d, key), "rb") as f:
                    loaded = serialization.load_pem_private_key(f.read(), None)
                assert isinstance(loaded, ed25519.Ed25519PrivateKey)
                assert os.stat(os.path.join(d, key)).st_mode & 0o77 == 0
        ca = load_cert(os.path.join(srv, "CA.crt"))
        assert rfc4514(ca.subject) == \
            "P=Signing Certificate,DC=org,DC=example,OU=Fraud Detection,O=Fictitious Organization"
        ident = load_cert(os.path.join(srv, "id.crt"))
        verify_issued(ident, ca)
        ext = ident.extensions
        assert ext.get_extension_for_class(x509.BasicConstraints).critical
        assert not ext.get_extension_for_class(x509.BasicConstraints).value.ca
        usage = ext.get_extension_for_class(x509.KeyUsage)
        assert usage.critical and usage.value.digital_signature and usage.value.key_encipherment
        assert list(ext.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
            ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH,
            ExtendedKeyUsageOID.CODE_SIGNING]
        assert ext.get_extension_for_class(x509.SubjectKeyIdentifier).value == \
            x509.SubjectKeyIdentifier.from_public_key(ident.public_key())
        assert ext.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier == \
            ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
        assert [str(v) for v in ext.get_extension_for_class(x509.SubjectAlternativeName).value
                .get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
        assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length == 0
        assert ca.serial_number < 2 ** 159
        # Introductions: the file name is the original's rfc4514 of the signer, with escapes.
        intro = introduce(cli, os.path.join(srv, "id.crt"), "--service", "svc=https://127.0.0.1:9")
        signed = x509.load_der_x509_certificate(b64der_decode(intro["signed_cert"]))
        signer = x509.load_der_x509_certificate(b64der_decode(intro["ca_cert"]))
        verify_issued(signed, signer)
        assert b64der_encode(signed.public_bytes(serialization.Encoding.DER)) == intro["signed_cert"]
        ok("add-intro", write_json(os.path.join(tmp, "intro.json"), intro), config=srv)
        expected = rfc4514(signer.subject)
        assert "\\\"the\\\"" in expected and "\\<Admin\\>\\+1\\ " in expected, expected
        assert os.listdir(os.path.join(srv, "id")) == [expected + ".crt"], os.listdir(os.path.join(srv, "id"))
        with open(os.path.join(srv, "known_servers", "svc.yaml")) as f:
            record = yaml.safe_load(f)
        assert record == {"auths": [expected], "cert": intro["ca_cert"],
                          "url": "https://127.0.0.1:9"}, record
        # get-signer prints what json.dumps prints.
        signer_line = ok("get-signer", config=srv).strip()
        assert signer_line == json.dumps({"ca_cert": json.loads(signer_line)["ca_cert"]})


def test_originals_directory_works_with_our_tools():
    with harness.temp_dir() as tmp:
        py_cli = python_directory(os.path.join(tmp, "py-cli"), x509.Name([
            x509.NameAttribute(NameOID.COMMON_NAME, "Python Person"),
            x509.NameAttribute(NameOID.USER_ID, "pyuser")]), [x509.RFC822Name("py@x.org")])
        py_srv = python_directory(os.path.join(tmp, "py-srv"), x509.Name([
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Py Org"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Unit")]),
            [x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))], key_type="secp256r1")
        srv = init_org(os.path.join(tmp, "srv"))
        # Our server introduces the Python-made client; the client installs it.
        intro = introduce(srv, os.path.join(py_cli, "id.crt"), "--service", "ours=https://127.0.0.1")
        ok("add-intro", write_json(os.path.join(tmp, "i.json"), intro), config=py_cli)
        with serve(srv, "--app", "info") as (_, port):
            proc = message(f"https://ours:{port}/info", config=py_cli)
            expect(proc, 0)
            assert json.loads(proc.stdout)["client"] == "uid:pyuser", proc.stdout
        # A service record as the original's yaml.dump writes it.
        with open(os.path.join(srv, "CA.crt"), "rb") as f:
            srv_ca = x509.load_pem_x509_certificate(f.read())
        record = {"url": "https://127.0.0.1", "auths": [rfc4514(srv_ca.subject)],
                  "cert": b64der_encode(srv_ca.public_bytes(serialization.Encoding.DER))}
        with open(os.path.join(py_cli, "known_servers", "dumped.yaml"), "w") as f:
            f.write(yaml.dump(record))
        # Our tools serve from the Python-made directory (P-256 keys) and it signs for us.
        cli = init_person(os.path.join(tmp, "cli"))
        intro = introduce(py_srv, os.path.join(cli, "id.crt"), "--service", "py=https://127.0.0.1")
        ok("add-intro", write_json(os.path.join(tmp, "j.json"), intro), config=cli)
        with serve(py_srv, "--app", "echo") as (_, port):
            expect(message(f"https://py:{port}/echo/compat", config=cli), 0,
                   stdout='{"message":"compat"}')
        with serve(srv, "--app", "echo") as (_, port):
            expect(message(f"https://dumped:{port}/echo/yaml", config=py_cli), 0,
                   stdout='{"message":"yaml"}')
        # Biscuits rooted at a P-256 CA key made by the other tool.
        token = ok("biscuit", "mint", "--user", "cn:x", config=py_srv).strip()
        ok("biscuit", "inspect", token, config=py_srv)


if __name__ == "__main__":
    harness.main([test_our_directory_reads_as_the_originals,
                  test_originals_directory_works_with_our_tools])
