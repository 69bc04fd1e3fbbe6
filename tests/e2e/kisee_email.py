"""Password recovery by e-mail: the sqlite backend with reset_delivery =
"email" hands the token to a real SMTP server (aiosmtpd, Debian's
python3-aiosmtpd) on loopback; the token from the mail changes the password."""

import re

import harness
import kisee_support as ks


def test_reset_token_arrives_by_email():
    with harness.temp_dir() as d:
        smtp_port = harness.free_port()
        smtp = harness.Process(["/usr/bin/python3", "-u", "-m", "aiosmtpd", "-n", "-l",
                                f"127.0.0.1:{smtp_port}", "-c", "aiosmtpd.handlers.Debugging"])
        try:
            harness.wait_for_port(smtp_port, process=smtp.popen)
            port = harness.free_port()
            settings = ks.write_quickstart_settings(d, port)
            with open(settings) as f:
                text = f.read()
            text = text.replace('reset_delivery = "stdout"', 'reset_delivery = "email"')
            text += (f'\n[email]\nhost = "127.0.0.1"\nport = {smtp_port}\n'
                     f'sender = "kisee@example.com"\nsubject = "Reset for {{username}}"\n'
                     f'reset_url = "https://app.example/reset?token={{token}}"\n')
            with open(settings, "w") as f:
                f.write(text)
            k = ks.Kisee(settings, port)
            try:
                ks.eq(k.request("POST", "/users/", {"username": "alice", "password": "wonderland-42",
                                                    "email": "alice@example.com"}).status, 201)
                ks.eq(k.request("POST", "/password_recoveries/",
                                {"email": "alice@example.com"}).status, 201)
                mail = smtp.wait_for_output("token=", timeout=20)
                ks.check("Subject: Reset for alice" in mail, mail)
                ks.check("alice@example.com" in mail, mail)
                token = re.search(r"token=([A-Za-z0-9_.-]+)", mail).group(1)
                ks.check("Password reset challenge" not in k.process.stdout(), "not printed")
                res = k.request("PATCH", "/users/alice/",
                                [{"op": "replace", "path": "/password", "value": "looking-glass-7"}],
                                {"Authorization": "Bearer " + token})
                ks.eq(res.status, 204)
                ks.eq(ks.login(k, "alice", "looking-glass-7").status, 201)
            finally:
                ks.eq(k.stop(), 0)
        finally:
            smtp.cleanup()


if __name__ == "__main__":
    harness.main([test_reset_token_arrives_by_email])
