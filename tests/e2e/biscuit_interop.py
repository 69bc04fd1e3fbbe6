"""Interoperability with the reference implementation (@biscuit-auth/biscuit-wasm,
the Rust code compiled to WebAssembly, driven by node): tokens minted and
attenuated by our CLI (Ed25519 and P-256 roots, a third-party block, a sealed
token) are verified and authorized by the reference with the same outcome as
ours, and the reverse; third-party blocks cross over in both directions."""

import json
import os

import harness
from biscuit_common import cli, expect, keypair, reference

AUTHORITY = 'right("file1", "read"); right("file2", "write");'
ALLOW_READ = 'resource("file1"); operation("read"); allow if right($r, "read"), resource($r);'
DENY_WRITE = 'resource("file1"); operation("write"); allow if right($r, "write"), resource($r);'


def ours_authorize(token, root, authorizer):
    with harness.temp_dir() as d:
        path = os.path.join(d, "token")
        with open(path, "w") as f:
            f.write(token)
        proc = cli("inspect", path, "--public-key", root, "--authorize-with", authorizer,
                   "--json", check=False)
    doc = json.loads(proc.stdout) if proc.stdout.strip() else {}
    return proc.returncode, doc


def same_outcome(token, root, authorizer, expected_allowed, label):
    ref = reference({"command": "authorize", "token": token, "root": root,
                     "authorizer": authorizer})
    expect(ref["verified"], f"{label}: reference refused the signatures: {ref}")
    code, doc = ours_authorize(token, root, authorizer)
    expect(ref["authorized"] == expected_allowed,
           f"{label}: reference authorized={ref['authorized']}, expected {expected_allowed}: {ref}")
    expect((code == 0) == expected_allowed, f"{label}: ours exit {code}, expected {expected_allowed}")
    # Both sides print every block the same way and agree on revocation ids.
    ours_sources = [b["code"] for b in doc["token"]["blocks"]]
    ref_sources = [s if s.endswith("\n") or not s else s + "\n" for s in ref["sources"]]
    expect([s.strip() for s in ours_sources] == [s.strip() for s in ref_sources],
           f"{label}: block sources differ:\nours {ours_sources}\nref  {ref['sources']}")
    expect([b["revocation_id"] for b in doc["token"]["blocks"]] == ref["revocation_ids"],
           f"{label}: revocation ids differ")


def write(d, name, text):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def test_ours_verified_by_reference():
    tp_private, tp_public = keypair("ed25519")
    for alg in ("ed25519", "secp256r1"):
        private, public = keypair(alg)
        with harness.temp_dir() as d:
            token = cli("generate", "--private-key", private, "-", input=AUTHORITY).stdout.strip()
            same_outcome(token, public, ALLOW_READ, True, f"{alg} authority")
            same_outcome(token, public, DENY_WRITE.replace('"write"),', '"read"),'), True,
                         f"{alg} authority other resource")
            attenuated = cli("attenuate", write(d, "t", token), "--block",
                             'check if operation("read"); check if resource($r), '
                             '["file1", "file3"].contains($r);').stdout.strip()
            same_outcome(attenuated, public, ALLOW_READ, True, f"{alg} attenuated")
            same_outcome(attenuated, public, DENY_WRITE, False, f"{alg} attenuated refuses")

            request = cli("generate-third-party-block-request",
                          write(d, "a", attenuated)).stdout.strip()
            block = cli("generate-third-party-block", write(d, "r", request), "--private-key",
                        tp_private, "--block", 'group("admin"); check if resource("file1");'
                        ).stdout.strip()
            third = cli("append-third-party-block", write(d, "a2", attenuated),
                        "--block-contents", block).stdout.strip()
            tp_allow = f'resource("file1"); operation("read"); allow if group("admin") trusting {tp_public};'
            tp_default = 'resource("file1"); operation("read"); allow if group("admin");'
            same_outcome(third, public, tp_allow, True, f"{alg} third-party trusted")
            same_outcome(third, public, tp_default, False, f"{alg} third-party not trusted")

            sealed = cli("seal", write(d, "s", third)).stdout.strip()
            same_outcome(sealed, public, tp_allow, True, f"{alg} sealed")


def test_reference_verified_by_ours():
    for alg in ("ed25519", "secp256r1"):
        root = reference({"command": "keypair", "algorithm": alg})
        tp = reference({"command": "keypair", "algorithm": "secp256r1"})
        plain = reference({"command": "mint", "root_private": root["private"],
                           "authority": AUTHORITY,
                           "blocks": ['check if operation("read");']})["token"]
        same_outcome(plain, root["public"], ALLOW_READ, True, f"ref {alg} attenuated")
        same_outcome(plain, root["public"], DENY_WRITE, False, f"ref {alg} refuses")
        full = reference({"command": "mint", "root_private": root["private"],
                          "authority": AUTHORITY + f' check if group("admin") trusting {tp["public"]};',
                          "blocks": ['check if operation("read");'],
                          "third_party": {"private": tp["private"], "public": tp["public"],
                                          "code": 'group("admin");'},
                          "seal": True})["token"]
        same_outcome(full, root["public"], ALLOW_READ, True, f"ref {alg} third-party sealed")
        same_outcome(full, root["public"], DENY_WRITE, False, f"ref {alg} sealed refuses")
        # A wrong root key is refused by both.
        other = reference({"command": "keypair", "algorithm": alg})
        ref = reference({"command": "authorize", "token": full, "root": other["public"],
                         "authorizer": ALLOW_READ})
        code, _ = ours_authorize(full, other["public"], ALLOW_READ)
        expect(not ref["verified"] and code == 1, "a wrong root key must be refused by both")


def test_third_party_blocks_cross_over():
    private, public = keypair()
    tp = reference({"command": "keypair", "algorithm": "ed25519"})
    with harness.temp_dir() as d:
        token = cli("generate", "--private-key", private, "-", input=AUTHORITY).stdout.strip()
        request = cli("generate-third-party-block-request", write(d, "t", token)).stdout.strip()
        block = reference({"command": "third-party-block", "request": request,
                           "private": tp["private"], "code": 'group("admin");'})["block"]
        appended = cli("append-third-party-block", write(d, "t2", token), "--block-contents",
                       block).stdout.strip()
        allow = f'allow if group("admin") trusting {tp["public"]};'
        same_outcome(appended, public, allow, True, "reference block in our token")


if __name__ == "__main__":
    harness.main([test_ours_verified_by_reference, test_reference_verified_by_ours,
                  test_third_party_blocks_cross_over])
