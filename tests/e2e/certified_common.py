"""Helpers shared by the certified end-to-end tests: run `certified` and
`message`, create configuration directories, start `certified serve`."""

import contextlib
import json
import os
import signal
import subprocess
import time

import harness

ORG_SIGNER = "P=Signing Certificate,OU=Fraud Detection,O=Fictitious Organization"


def certified(*args, config=None, input=None, env=None):
    """Run build/bin/certified; returns CompletedProcess (text)."""
    argv = [harness.tool("certified"), *args]
    if config is not None:
        argv += ["--config", str(config)]
    return harness.run(argv, input=input, env=env, timeout=60)


def ok(*args, config=None, input=None):
    """certified(...) that must succeed; returns stdout."""
    proc = certified(*args, config=config, input=input)
    if proc.returncode != 0:
        raise AssertionError(f"certified {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
    return proc.stdout


def message(*args, config=None, tool="message"):
    argv = [harness.tool(tool), *args]
    if config is not None:
        argv += ["--config", str(config)]
    return harness.run(argv, timeout=60)


def expect(proc, code, stderr_contains=None, stdout=None):
    """Assert an exit status (and a stderr fragment / the exact stdout)."""
    if proc.returncode != code:
        raise AssertionError(f"exit {proc.returncode} != {code}\nstdout: {proc.stdout}\nstderr: {proc.stderr}")
    if stderr_contains is not None and stderr_contains not in proc.stderr:
        raise AssertionError(f"{stderr_contains!r} not in stderr: {proc.stderr!r}")
    if stdout is not None and proc.stdout.strip() != stdout:
        raise AssertionError(f"stdout {proc.stdout.strip()!r} != {stdout!r}")
    if code == 1 and (proc.stderr.count("\n") != 1 or "Traceback" in proc.stderr):
        raise AssertionError(f"an error must be one line on stderr: {proc.stderr!r}")


def init_person(path, name="David Rogers", email="me@home.org", *extra):
    ok("init", name, "--email", email, *extra, config=path)
    return path


def init_org(path, org="Fictitious Organization", unit="Fraud Detection", *extra):
    ok("init", "--org", org, "--unit", unit, "--host", "127.0.0.1", *extra, config=path)
    return path


def introduce(server, client_cert, *extra):
    """The server signs `client_cert`; returns the introduction dict."""
    return json.loads(ok("introduce", str(client_cert), *extra, config=server))


def write_json(path, value):
    with open(path, "w") as f:
        json.dump(value, f, indent=2)
    return path


@contextlib.contextmanager
def serve(config, *args, port=None):
    """Run `certified serve` until the block ends; yields (process, port)."""
    port = port or harness.free_port()
    process = harness.Process([harness.tool("certified"), "serve", "--config", str(config),
                               "--threads", "1", *args, f"https://127.0.0.1:{port}"])
    try:
        process.wait_for_output("certified serve:", timeout=20, stream="stderr")
        harness.wait_for_port(port, process=process.popen)
        yield process, port
    finally:
        code = process.stop()
        if code not in (0, -signal.SIGTERM):
            raise AssertionError(f"serve exited {code}: {process.stderr()}")
        process.cleanup()


def access_log(process):
    """The JSON access-log lines `certified serve` printed so far."""
    lines = []
    for line in process.stdout().splitlines():
        line = line.strip()
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def id_file(config, signer=ORG_SIGNER):
    return os.path.join(str(config), "id", signer + ".crt")
