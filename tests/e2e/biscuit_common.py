"""Helpers shared by the biscuit end-to-end tests: run our CLI and the
reference implementation (biscuit-wasm under node)."""

import json
import os
import subprocess

import harness

NODE_SCRIPT = os.path.join(harness.NODE_DIR, "biscuit_reference.mjs")


def cli(*args, input=None, check=True):
    """Run build/bin/biscuit; returns CompletedProcess (text). `inspect` gets a
    generous time limit unless one is given: the machine is shared and the
    reference's 1 ms default would make the tests flaky."""
    if args and args[0] == "inspect" and "--max-time" not in args:
        args = (*args, "--max-time", "500ms")
    proc = harness.run([harness.tool("biscuit"), *args], input=input, timeout=60)
    if check and proc.returncode != 0:
        raise AssertionError(f"biscuit {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
    return proc


def reference(request):
    """Run one request against the reference implementation."""
    proc = subprocess.run(["node", "--experimental-wasm-modules", "--no-warnings", NODE_SCRIPT],
                          input=json.dumps(request), capture_output=True, text=True,
                          timeout=60, cwd=harness.NODE_DIR)
    if proc.returncode != 0:
        raise AssertionError(f"node failed: {proc.stderr}")
    answer = json.loads(proc.stdout.strip().splitlines()[-1])
    if "exception" in answer:
        raise AssertionError(f"reference raised: {answer['exception']}")
    return answer


def keypair(algorithm="ed25519"):
    out = cli("keypair", "--key-algorithm", algorithm).stdout.splitlines()
    private = next(l for l in out if l.startswith("Private key: ")).split(": ", 1)[1]
    public = next(l for l in out if l.startswith("Public key: ")).split(": ", 1)[1]
    return private, public


def expect(cond, message):
    if not cond:
        raise AssertionError(message)
