"""Helpers shared by the kisee end-to-end tests: settings files, starting the
real kisee binary, and the full walk of the API contract (kisee-api.md)."""

import base64
import json
import os
import re
import subprocess
import time

import harness

ORIGINAL_HOSTNAME = "https://fakekiseehostname.melty.com"
JTI_RE = re.compile(r"^[23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz]{22}$")
PROBLEM_TYPE = "application/problem+json; charset=utf-8"


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def eq(actual, expected, what=""):
    if actual != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {actual!r}")


def b64url_json(part):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def secp256k1_pem_pair(directory):
    """A fresh secp256k1 key pair made by openssl, as the original's docs say."""
    key = os.path.join(directory, "secp256k1.pem")
    subprocess.run(["openssl", "ecparam", "-name", "secp256k1", "-genkey", "-noout", "-out", key],
                   check=True, capture_output=True)
    pub = subprocess.run(["openssl", "ec", "-in", key, "-pubout"], check=True,
                         capture_output=True, text=True).stdout
    with open(key) as f:
        return f.read(), pub


def write_original_settings(directory, port):
    """The original kisee's tests/test_settings.toml (demo backend, secp256k1)."""
    private, public = secp256k1_pem_pair(directory)
    path = os.path.join(directory, "settings.toml")
    with open(path, "w") as f:
        f.write(f"""[server]
host = "127.0.0.1"
hostname = "{ORIGINAL_HOSTNAME}"
port = {port}

[identity_backend]
  class = "kisee.providers.demo.DemoBackend"

[email]
    host = "localhost"
    sender = "sender@example.com"

[jwt]
  iss = "example.com"
  private_key = '''
{private}'''
  public_key = '''
{public}'''
""")
    return path


def write_quickstart_settings(directory, port, fast=True, name="settings.toml"):
    """kisee-quickstart --yes output (sqlite, P-256, strict policy). With
    `fast`, argon2id runs at small parameters: the walk is about behaviour."""
    path = os.path.join(directory, name)
    harness.run([harness.tool("kisee-quickstart"), "--yes", "--port", str(port),
                 "--hostname", f"http://127.0.0.1:{port}", "--output", path], check=True)
    if fast:
        with open(path) as f:
            text = f.read()
        text = text.replace("memory_kib = 19456", "memory_kib = 256")
        with open(path, "w") as f:
            f.write(text)
    return path


class Kisee:
    """A running kisee process on a loopback port."""

    def __init__(self, settings, port):
        self.port = port
        self.process = harness.Process([harness.tool("kisee"), "--settings", settings])
        harness.wait_for_port(port, process=self.process.popen)

    def root_password(self):
        text = self.process.wait_for_output("password: ")
        return re.search(r"username: root\npassword: (\S+)\n", text).group(1)

    def reset_token(self, username, seen=0, timeout=10.0):
        """The (seen+1)-th reset token printed for `username`."""
        needle = f"Password reset challenge for user {username} is "
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            tokens = re.findall(re.escape(needle) + r"(\S+)", self.process.stdout())
            if len(tokens) > seen:
                return tokens[seen]
            time.sleep(0.05)
        raise AssertionError(f"no reset token for {username} in stdout:\n{self.process.stdout()}")

    def request(self, method, path, body=None, headers=None):
        return harness.request(self.port, method, path, body=body, headers=headers)

    def stop(self):
        code = self.process.stop()
        self.process.cleanup()
        return code


def basic(username, password):
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def expect_problem(res, status, reason):
    eq(res.status, status, f"status of {res!r}")
    eq(res.reason, reason, "reason phrase")
    eq(res.headers.get("Content-Type"), PROBLEM_TYPE, "problem content type")
    doc = res.json()
    keys = list(doc.keys())
    check(keys[:3] == ["_type", "_meta", "title"] and keys[-1] == "status", f"problem keys {keys}")
    eq(doc["_type"], "error")
    eq(doc["_meta"], {"title": reason})
    eq(doc["title"], reason)
    eq(doc["status"], status)
    return doc


def login(k, username, password, accept=None):
    headers = {"Accept": accept} if accept else {}
    return k.request("POST", "/jwt/", {"username": username, "password": password}, headers)


def walk(k, base, root_password, strict_policy, store_name):
    """Every route and error of kisee-api.md §1–§4 against a running kisee."""
    # §2.1 json-home, HEAD, query strings ignored.
    res = k.request("GET", "/", headers={"Accept": "text/html"})
    eq(res.status, 200)
    eq(res.headers.get("Content-Type"), "application/json-home")
    home = res.json()
    eq(home["resources"]["jwt"]["href"], base + "/jwt/")
    eq(home["resources"]["users"]["href"], base + "/users/")
    eq(home["resources"]["password_recoveries"]["href"], base + "/password_recoveries/")
    eq(home["resources"]["users"]["hints"]["allow"], ["GET", "POST", "PATCH"])
    res = k.request("HEAD", "/")
    eq((res.status, res.body), (200, b""), "HEAD /")
    check("Origin" in (res.headers.get("Vary") or ""), "Vary: Origin on success")

    # §2.3 GET /jwt/ in both representations.
    core = k.request("GET", "/jwt/?page=2").json()
    eq(list(core.keys()), ["_type", "_meta", "tokens", "add_token"], "coreapi keys")
    eq(core["_meta"], {"url": base + "/jwt/", "title": "JSON Web Tokens"})
    eq(core["add_token"]["fields"][1],
       {"name": "password", "required": True, "schema": {"type": "string", "format": "password"}})
    res = k.request("GET", "/jwt/", headers={"Accept": "application/json"})
    eq(res.headers.get("Content-Type"), "application/json")
    eq(res.json(), {"tokens": [], "add_token": base + "/jwt/"})
    eq(k.request("GET", "/jwt/", headers={"Accept": "application/coreapi+json;q=0.5, application/json"}).json(),
       {"tokens": [], "add_token": base + "/jwt/"})
    eq(k.request("GET", "/jwt/", headers={"Accept": "*/*"}).json()["_type"], "document")

    # §1 exact paths, 404/405.
    for path in ["/jwt", "/health/", "/users/alice", "/nothing"]:
        expect_problem(k.request("GET", path), 404, "Not Found")
    expect_problem(k.request("DELETE", "/jwt/"), 405, "Method Not Allowed")
    expect_problem(k.request("PUT", "/users/"), 405, "Method Not Allowed")

    # §2.4 login errors.
    doc = expect_problem(k.request("POST", "/jwt/", "{not json"), 400, "Malformed JSON")
    check("detail" in doc and list(doc.keys())[-2] == "detail", "Malformed JSON has detail")
    expect_problem(k.request("POST", "/jwt/", "[" * 100000), 400, "Malformed JSON")
    for body in ["[]", "null", "3", '"x"', {"username": "root"}, {"password": "x"},
                 {"username": 1, "password": "x"}, {"username": "root", "password": None}]:
        expect_problem(k.request("POST", "/jwt/", body), 422, "Missing username or password.")
    expect_problem(login(k, "root", root_password + "x"), 403, "Failed identification for kisee.")
    expect_problem(login(k, "nobody-here", "whatever"), 403, "Failed identification for kisee.")
    expect_problem(login(k, "root", ""), 403, "Failed identification for kisee.")

    # §2.4 success, §4.1 token shape.
    res = k.request("POST", "/jwt/", {"username": "root", "password": root_password},
                    {"Content-Type": "text/plain"})
    eq(res.status, 201, f"login {res!r}")
    body = res.json()
    eq(list(body.keys()), ["_type", "_meta", "tokens", "add_token"])
    eq(len(body["tokens"]), 1)
    token = body["tokens"][0]
    header = b64url_json(token.split(".")[0])
    claims = b64url_json(token.split(".")[1])
    eq(list(header.keys()), ["typ", "alg", "kid"], "header order")
    eq(header["typ"], "JWT")
    eq(header["alg"], "ES256")
    eq(list(claims.keys()), ["iss", "sub", "exp", "jti", "iat"], "claims order")
    eq(claims["sub"], "root")
    eq(claims["exp"] - claims["iat"], 3600)
    check(abs(claims["iat"] - time.time()) < 60, "iat is now")
    check(JTI_RE.match(claims["jti"]), f"jti alphabet {claims['jti']}")
    eq(res.headers.get("Location"), "/jwt/" + claims["jti"])
    eq(len(base64.urlsafe_b64decode(token.split(".")[2] + "==")), 64, "raw r||s signature")
    root_token = token
    res = k.request("POST", "/jwt/", {"login": "root", "password": root_password},
                    {"Accept": "application/json"})
    eq(res.status, 201, "login alias")
    eq(list(res.json().keys()), ["tokens", "add_token"])
    eq(k.request("POST", "/jwt/", {"username": "root", "login": "nobody",
                                    "password": root_password}).status, 201, "username wins")
    expect_problem(k.request("GET", "/jwt/" + claims["jti"]), 404, "Not Found")
    expect_problem(k.request("GET", "/jwt/unknown"), 404, "Not Found")

    # §4.3 JWKS lists the signing key.
    jwks = k.request("GET", "/.well-known/jwks.json").json()
    kids = [key["kid"] for key in jwks["keys"]]
    check(header["kid"] in kids, "token kid published")
    key = jwks["keys"][0]
    eq(list(key.keys()), ["kty", "crv", "x", "y", "kid", "alg", "use"])
    eq((key["kty"], key["alg"], key["use"]), ("EC", "ES256", "sig"))

    # §2.5 GET /users/.
    users = k.request("GET", "/users/").json()
    eq(list(users.keys()), ["_type", "_meta", "users", "patch", "register_user"])
    eq(users["patch"]["url"], base + "/users/{user_id}")
    min_length = users["register_user"]["fields"][1]["schema"]["minLength"]
    eq(min_length, 8 if strict_policy else 1, "minLength reflects the policy")
    eq(k.request("GET", "/users/", headers={"Accept": "application/json"}).json(),
       {"users": [], "patch": base + "/users/{user_id}", "register_user": base + "/users/"})

    # §2.6 registration.
    expect_problem(k.request("POST", "/users/", "nope"), 400, "Malformed JSON")
    for body in ["[]", "null", {"username": "alice", "password": "x"},
                 {"username": "alice", "password": 3, "email": "a@b.c"}]:
        expect_problem(k.request("POST", "/users/", body), 400, "Missing required input fields")
    expect_problem(k.request("POST", "/users/", {"username": "alice", "password": "wonderland-42",
                                                 "email": "alice-at-example"}),
                   400, "Email is not valid")
    expect_problem(k.request("POST", "/users/", {"username": "al", "password": "wonderland-42",
                                                 "email": "al@example.com"}),
                   400, "Username too short")
    if strict_policy:
        res = k.request("POST", "/users/", {"username": "weakling", "password": "password",
                                            "email": "weak@example.com"})
        eq(res.status, 400, "common password refused")
    res = k.request("POST", "/users/", {"username": "alice", "password": "wonderland-42",
                                        "email": "alice@example.com", "extra": [1]})
    eq(res.status, 201, f"register {res!r}")
    eq(res.body, b"")
    eq(res.headers.get("Content-Length"), "0")
    eq(res.headers.get("Location"), "/users/alice/")
    expect_problem(k.request("POST", "/users/", {"username": "alice", "password": "another-one-9",
                                                 "email": "alice2@example.com"}),
                   409, "User already exist")
    res = login(k, "alice", "wonderland-42")
    eq(res.status, 201)
    alice_token = res.json()["tokens"][0]

    # §2.7 PATCH: authentication errors, in order.
    patch = [{"op": "replace", "path": "/password", "value": "looking-glass-7"}]
    expect_problem(k.request("PATCH", "/users/alice/", patch), 401, "Missing authorization header")
    for auth in ["Bearer", "Basic !!!", "Basic " + base64.b64encode(b"nocolon").decode(),
                 basic("alice", "wrong-password"), "Digest abc", "Bearer not.a.token",
                 "Bearer " + alice_token[:-4] + "AAAA",
                 "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJwYXNzd29yZF9yZXNldF9mb3IiOiJhbGljZSJ9."]:
        expect_problem(k.request("PATCH", "/users/alice/", patch, {"Authorization": auth}),
                       401, "Bad authorization")
    expect_problem(k.request("PATCH", "/users/alice/", patch,
                             {"Authorization": "Bearer " + alice_token}),
                   403, "Use a password lost token or basic auth.")
    auth = {"Authorization": basic("alice", "wonderland-42")}
    expect_problem(k.request("PATCH", "/users/alice/", "{", auth), 400, "Malformed JSON")
    for body in [{}, "null", [3], [{"op": "bogus", "path": "/password", "value": "x"}],
                 [{"op": "replace", "value": "x"}],
                 [{"op": "replace", "path": "password", "value": "looking-glass-7"}]]:
        expect_problem(k.request("PATCH", "/users/alice/", body, auth), 400, "Invalid json patch.")
    for body in [patch + patch, [{"op": "replace", "path": "/email", "value": "x@y.z"}],
                 [{"op": "replace", "path": "/password"}], [],
                 [{"op": "replace", "path": "/password", "value": 42}]]:
        res = k.request("PATCH", "/users/alice/", body, auth)
        eq(res.status, 400, f"patch {body}")
        check(res.reason in ("Only password can be patched.", "Invalid json patch."), res.reason)
    expect_problem(k.request("PATCH", "/users/root/", patch, auth), 403,
                   "Token does not apply to user resource.")
    if strict_policy:
        res = k.request("PATCH", "/users/alice/",
                        [{"op": "replace", "path": "/password", "value": "short"}], auth)
        eq(res.status, 400, "policy on change")
    res = k.request("PATCH", "/users/alice/", patch, auth)
    eq((res.status, res.body), (204, b""), f"patch {res!r}")
    eq(login(k, "alice", "wonderland-42").status, 403)
    eq(login(k, "alice", "looking-glass-7").status, 201)

    # §2.8 GET /password_recoveries/.
    anon = k.request("GET", "/password_recoveries/").json()
    eq(list(anon.keys()), ["_type", "_meta", "reset_password"])
    check("title" not in anon["reset_password"], "reset_password has no title")
    eq(anon["_meta"]["title"], "Forgotten password management")
    eq(k.request("GET", "/password_recoveries/", headers={"Accept": "application/json"}).json(),
       {"reset_password": base + "/password_recoveries/"})
    eq(k.request("GET", "/password_recoveries/",
                 headers={"Authorization": "Bearer " + root_token}).json(), anon,
       "a login token gets the anonymous document")
    with_basic = k.request("GET", "/password_recoveries/",
                           headers={"Authorization": basic("alice", "looking-glass-7"),
                                    "Accept": "application/json"}).json()
    eq(with_basic, {"recover": base + "/users/alice/"})

    # §2.9 POST /password_recoveries/ and the whole recovery flow.
    expect_problem(k.request("POST", "/password_recoveries/", "{"), 400, "Malformed JSON")
    for body in [{}, "[]", {"name": "alice"}]:
        expect_problem(k.request("POST", "/password_recoveries/", body), 400,
                       "Missing required fields email or username")
    res = k.request("POST", "/password_recoveries/", {"username": "nobody-at-all"})
    eq((res.status, res.body), (201, b""), "unknown user: same 201")
    res = k.request("POST", "/password_recoveries/", {"email": "alice@example.com"})
    eq((res.status, res.body), (201, b""))
    first = k.reset_token("alice", 0)
    res = k.request("POST", "/password_recoveries/", {"login": "alice"})
    eq(res.status, 201)
    token = k.reset_token("alice", 1)
    reset_claims = b64url_json(token.split(".")[1])
    eq(reset_claims["password_reset_for"], "alice")
    check("sub" not in reset_claims, "no sub in a reset token")
    eq(reset_claims["exp"] - int(time.time()) in range(3500, 3700), True, "reset lifetime 1h")
    bearer = {"Authorization": "Bearer " + token}
    eq(k.request("GET", "/password_recoveries/", headers=bearer).json()["recover"]["url"],
       base + "/users/alice/")
    new_patch = [{"op": "replace", "path": "/password", "value": "white-rabbit-3"}]
    # The older token was superseded by the newer one.
    expect_problem(k.request("PATCH", "/users/alice/", new_patch,
                             {"Authorization": "Bearer " + first}), 401, "Bad authorization")
    expect_problem(k.request("PATCH", "/users/root/", new_patch, bearer), 403,
                   "Token does not apply to user resource.")
    res = k.request("PATCH", "/users/alice/", new_patch, bearer)
    eq(res.status, 204, f"reset patch {res!r}")
    eq(login(k, "alice", "white-rabbit-3").status, 201)
    # Single use.
    expect_problem(k.request("PATCH", "/users/alice/", patch, bearer), 401, "Bad authorization")
    eq(k.request("GET", "/password_recoveries/", headers=bearer).json(), anon)

    # §2.10 health.
    res = k.request("GET", "/health")
    eq(res.status, 200)
    health = res.json()
    eq(list(health.keys()), ["status", "database", "version"])
    eq((health["status"], health["database"]), ("green", "OK"))
    eq(k.request("GET", "/health/ready").status, 200)

    # §2.11 CORS.
    res = k.request("OPTIONS", "/jwt/", headers={"Origin": "https://app.example",
                                                 "Access-Control-Request-Method": "POST",
                                                 "Access-Control-Request-Headers": "content-type"})
    eq(res.status, 200, "preflight")
    eq(res.headers.get("Access-Control-Allow-Origin"), "https://app.example")
    eq(res.headers.get("Access-Control-Allow-Credentials"), "true")
    eq(res.headers.get("Access-Control-Allow-Methods"), "POST")
    eq(res.headers.get("Access-Control-Allow-Headers"), "content-type")
    expect_problem(k.request("OPTIONS", "/jwt/", headers={"Origin": "https://app.example"}),
                   403, "Forbidden")
    res = k.request("POST", "/jwt/", {"username": "alice", "password": "white-rabbit-3"},
                    {"Origin": "https://app.example"})
    eq(res.headers.get("Access-Control-Allow-Origin"), "https://app.example")
    check("Location" in (res.headers.get("Access-Control-Expose-Headers") or ""), "expose Location")
    eq(res.headers.get("Access-Control-Expose-Headers"), "Location,Vary,Date", "exposed headers")
    res = k.request("GET", "/nothing", headers={"Origin": "https://app.example"})
    eq(res.headers.get("Access-Control-Allow-Origin"), "https://app.example", "CORS on errors")
    eq(res.headers.get("Access-Control-Expose-Headers"), "Vary,Date", "exposed headers on errors")
    res = k.request("GET", "/health", headers={"Origin": "https://app.example"})
    eq(res.headers.get("Access-Control-Expose-Headers"), "Vary,Date", "exposed headers on /health")
    res = k.request("OPTIONS", "/", headers={"Origin": "https://app.example",
                                             "Access-Control-Request-Method": "HEAD"})
    eq((res.status, res.headers.get("Access-Control-Allow-Methods")), (200, "HEAD"),
       "preflight for HEAD on a GET route")

    # §5 brute-force limits: 5 failures for one username → 429 + Retry-After.
    # Earlier failures for alice in this walk count too: the lockout comes
    # within five more failures.
    for _ in range(6):
        res = login(k, "alice", "not-her-password")
        if res.status == 429:
            break
        eq(res.status, 403, "failed login before the lockout")
    eq(res.status, 429, "locked out within five failures")
    res = login(k, "alice", "white-rabbit-3")
    expect_problem(res, 429, "Too Many Requests")
    check(int(res.headers.get("Retry-After")) > 0, "Retry-After")
    eq(login(k, "root", root_password).status, 201, "other users unaffected")
    print(f"walk complete on {store_name}")


def write_backend_settings(directory, port, backend, email=None, name="settings.toml"):
    """kisee-quickstart's settings with `backend` (the TOML of the whole
    [identity_backend] section, options included) in place of the sqlite
    store, and `email` (the TOML of an [email] section) appended when given.
    argon2id runs at small parameters."""
    path = write_quickstart_settings(directory, port, name=name)
    with open(path) as f:
        text = f.read()
    start = text.index("[identity_backend]")
    end = text.index("[passwords]")
    text = text[:start] + backend.strip() + "\n\n" + text[end:]
    if email:
        text += "\n" + email.strip() + "\n"
    with open(path, "w") as f:
        f.write(text)
    return path


def email_section(smtp, security="none", ca=None, auth=None,
                  reset_url="https://app.example/reset?token={token}", templates=True):
    """The [email] section for an SmtpSink (without templates: the defaults)."""
    text = (f'[email]\nhost = "127.0.0.1"\nport = {smtp.port}\nsecurity = "{security}"\n'
            f'sender = "kisee@example.com"\n')
    if templates:
        text += (f'subject = "Reset for {{username}}"\n'
                 f'body = "Hello {{username}}, follow {{reset_url}} to choose a new password."\n'
                 f'reset_url = "{reset_url}"\n')
    if ca:
        text += f'ca_file = "{ca}"\n'
    if auth:
        text += f'username = "{auth[0]}"\npassword = "{auth[1]}"\n'
    return text


def token_from_mail(mail):
    """The reset token in the reset_url of a received message."""
    body = mail["message"].get_body(preferencelist=("plain",)).get_content()
    found = re.search(r"token=([A-Za-z0-9_.-]+)", body)
    check(found is not None, f"no token in the mail: {body!r}")
    return found.group(1)


def recover_by_email(k, smtp, username, email, new_password, count=1,
                     subject=None):
    """POST /password_recoveries/ for `email`, read the token from the
    `count`-th message on `smtp`, change the password with it, and check
    that the token is single-use. Returns the received message."""
    res = k.request("POST", "/password_recoveries/", {"email": email})
    eq((res.status, res.body), (201, b""), "recovery accepted")
    mail = smtp.wait_for_message(count)
    eq(mail["to"], [email], "recipient")
    eq(mail["message"]["Subject"], subject or f"Reset for {username}", "subject template")
    token = token_from_mail(mail)
    check(token not in k.process.stderr() and token not in k.process.stdout(),
          "the token is never logged")
    patch = [{"op": "replace", "path": "/password", "value": new_password}]
    bearer = {"Authorization": "Bearer " + token}
    # The user_id (PATCH path) comes from the recover document.
    recover = k.request("GET", "/password_recoveries/",
                        headers={"Authorization": bearer["Authorization"],
                                 "Accept": "application/json"}).json()
    check("recover" in recover, f"a reset token gets the recover document: {recover}")
    path = recover["recover"].split("://", 1)[1].split("/", 1)[1]
    res = k.request("PATCH", "/" + path, patch, bearer)
    eq(res.status, 204, f"password changed with the mailed token: {res!r}")
    expect_problem(k.request("PATCH", "/" + path, patch, bearer), 401, "Bad authorization")
    eq(login(k, username, new_password).status, 201, "login with the new password")
    return mail


def start_fails(settings):
    """Runs kisee with `settings` expecting a start-up failure; returns stderr."""
    result = harness.run([harness.tool("kisee"), "--settings", settings], timeout=60)
    eq(result.returncode, 1, f"exit code of a failed start (stderr: {result.stderr})")
    lines = [line for line in result.stderr.splitlines() if line.startswith("kisee: ")]
    eq(len(lines), 1, f"one error line: {result.stderr!r}")
    return lines[0]
