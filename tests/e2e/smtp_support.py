"""An SMTP server for the tests (Debian's python3-aiosmtpd), in this
process, on a free loopback port: plain, STARTTLS (required) or implicit
TLS, optionally requiring AUTH. It keeps every message it accepts."""

import email
import email.policy
import warnings
import logging
import ssl
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

import harness

# Failed handshakes (the untrusted-certificate test) are expected: no
# tracebacks from the server in the test output.
logging.getLogger("mail.log").setLevel(logging.CRITICAL)
# Implicit TLS with AUTH is safe; aiosmtpd warns because it only knows STARTTLS.
warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")


class _Handler:
    def __init__(self, sink):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content or envelope.content,
                                           policy=email.policy.default)
        with self.sink.lock:
            self.sink.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                                       "message": message, "tls": session.ssl is not None or self.sink.security == "tls",
                                       "authenticated": session.authenticated})
        return "250 OK"


class SmtpSink:
    """security: "none", "starttls" or "tls" (a TLS-only listener: every
    message it accepts came over TLS); auth: None or (login, password)."""

    def __init__(self, security="none", auth=None, certs=None, port=None):
        self.security = security
        self.auth = auth
        self.port = port or harness.free_port()
        self.messages = []
        self.lock = threading.Lock()
        self.failed_logins = 0
        kwargs = {}
        context = None
        if security != "none":
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(certs["cert"], certs["key"])
        if security == "starttls":
            kwargs.update(tls_context=context, require_starttls=True)
        if auth is not None:
            # aiosmtpd only counts STARTTLS as TLS for AUTH; implicit TLS is
            # TLS from the first byte.
            kwargs.update(authenticator=self._authenticate, auth_required=True,
                          auth_require_tls=security == "starttls")
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port,
                                     ssl_context=context if security == "tls" else None,
                                     **kwargs)

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword) and \
                (auth_data.login.decode(), auth_data.password.decode()) == self.auth:
            return AuthResult(success=True)
        self.failed_logins += 1
        return AuthResult(success=False, handled=False)

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()

    def wait_for_message(self, count=1, timeout=20.0):
        """Waits until `count` messages arrived; returns the count-th."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return self.messages[count - 1]
            time.sleep(0.05)
        raise AssertionError(f"no message #{count} on the SMTP server after {timeout}s "
                             f"({len(self.messages)} received)")
