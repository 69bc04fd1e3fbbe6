"""Password recovery by e-mail through a real SMTP server (Debian's
python3-aiosmtpd, smtp_support): plain, STARTTLS and implicit TLS with the
test CA, SMTP authentication, the default templates, a certificate that is
not trusted, and a server that comes up late (retries with back-off). In
every case the token from the received message resets the password, and
it is never logged."""

import os
import time

import harness
import kisee_support as ks
import smtp_support
import tls_support

SMTP_AUTH = ("kisee-mailer", "smtp-secret-5")


def start_kisee(d, smtp_text):
    port = harness.free_port()
    settings = ks.write_quickstart_settings(d, port)
    with open(settings) as f:
        text = f.read()
    with open(settings, "w") as f:
        f.write(text.replace('reset_delivery = "stdout"', 'reset_delivery = "email"') + "\n" +
                smtp_text)
    k = ks.Kisee(settings, port)
    ks.eq(k.request("POST", "/users/", {"username": "alice", "password": "wonderland-42",
                                        "email": "alice@example.com"}).status, 201)
    return k


def test_plain_smtp():
    with harness.temp_dir() as d:
        smtp = smtp_support.SmtpSink().start()
        k = start_kisee(d, ks.email_section(smtp))
        try:
            mail = ks.recover_by_email(k, smtp, "alice", "alice@example.com", "looking-glass-7")
            ks.eq(mail["from"], "kisee@example.com", "envelope sender")
            ks.check("Password reset challenge" not in k.process.stdout(), "not printed")
        finally:
            ks.eq(k.stop(), 0)
            smtp.stop()


def test_starttls_with_authentication():
    with harness.temp_dir() as d:
        certs = tls_support.make_certificates(os.path.join(d, "tls"))
        smtp = smtp_support.SmtpSink("starttls", auth=SMTP_AUTH, certs=certs).start()
        k = start_kisee(d, ks.email_section(smtp, "starttls", ca=certs["ca"], auth=SMTP_AUTH))
        try:
            mail = ks.recover_by_email(k, smtp, "alice", "alice@example.com", "looking-glass-7")
            ks.check(mail["tls"], "delivered over TLS")
            ks.check(mail["authenticated"], "after AUTH")
            ks.check(SMTP_AUTH[1] not in k.process.stderr(), "the SMTP password is never logged")
        finally:
            ks.eq(k.stop(), 0)
            smtp.stop()


def test_implicit_tls_and_the_default_templates():
    with harness.temp_dir() as d:
        certs = tls_support.make_certificates(os.path.join(d, "tls"))
        smtp = smtp_support.SmtpSink("tls", auth=SMTP_AUTH, certs=certs).start()
        k = start_kisee(d, ks.email_section(smtp, "tls", ca=certs["ca"], auth=SMTP_AUTH,
                                            templates=False))
        try:
            mail = ks.recover_by_email(k, smtp, "alice", "alice@example.com", "looking-glass-7",
                                       subject="Reset your password")
            ks.check(mail["tls"], "implicit TLS")
            body = mail["message"].get_body(preferencelist=("plain",)).get_content()
            ks.check(body.startswith("Hello alice,"), body)
            ks.check(f"http://127.0.0.1:{k.port}/password_recoveries/?token=" in body,
                     f"the default reset_url: {body}")
        finally:
            ks.eq(k.stop(), 0)
            smtp.stop()


def test_an_untrusted_certificate_gets_no_mail():
    with harness.temp_dir() as d:
        certs = tls_support.make_certificates(os.path.join(d, "tls"))
        smtp = smtp_support.SmtpSink("starttls", certs=certs).start()
        k = start_kisee(d, ks.email_section(smtp, "starttls"))  # no ca_file: system CAs
        try:
            res = k.request("POST", "/password_recoveries/", {"email": "alice@example.com"})
            ks.eq(res.status, 201)
            k.process.wait_for_output("retrying in", timeout=10, stream="stderr")
            ks.eq(len(smtp.messages), 0, "nothing sent to a server that was not verified")
        finally:
            ks.eq(k.stop(), 0)
            smtp.stop()


def test_a_late_server_gets_the_mail_after_retries():
    with harness.temp_dir() as d:
        smtp = smtp_support.SmtpSink()  # its port is chosen, nothing listens yet
        k = start_kisee(d, ks.email_section(smtp))
        try:
            begin = time.monotonic()
            res = k.request("POST", "/password_recoveries/", {"email": "alice@example.com"})
            ks.eq((res.status, res.body), (201, b""), "answered at once")
            ks.check(time.monotonic() - begin < 2, "the request does not wait for SMTP")
            k.process.wait_for_output("retrying in 2000 ms", timeout=10, stream="stderr")
            smtp.start()
            mail = smtp.wait_for_message(1, timeout=30)
            token = ks.token_from_mail(mail)
            ks.check(token not in k.process.stderr(), "the token is never logged")
            res = k.request("PATCH", "/users/alice/",
                            [{"op": "replace", "path": "/password", "value": "looking-glass-7"}],
                            {"Authorization": "Bearer " + token})
            ks.eq(res.status, 204, "the token from the late mail resets the password")
        finally:
            ks.eq(k.stop(), 0)
            smtp.stop()


if __name__ == "__main__":
    harness.main([test_plain_smtp, test_starttls_with_authentication,
                  test_implicit_tls_and_the_default_templates,
                  test_an_untrusted_certificate_gets_no_mail,
                  test_a_late_server_gets_the_mail_after_retries])
