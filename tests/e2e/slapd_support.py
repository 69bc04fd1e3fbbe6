"""A throw-away OpenLDAP server for the tests: a generated slapd.conf, an
MDB database loaded with slapadd in a temporary directory, slapd on free
loopback ports (ldap:// with StartTLS, and ldaps://) with a test
certificate; stopped by pid."""

import os
import shutil
import subprocess
import tempfile

import harness
import tls_support

SUFFIX = "dc=example,dc=org"
PEOPLE = f"ou=people,{SUFFIX}"
READER_DN = f"cn=kisee,{SUFFIX}"
READER_PASSWORD = "reader-secret-77"

# Users: uid -> (mail, password).
USERS = {
    "alice": ("alice@example.com", "wonderland-42"),
    "bob": ("bob@example.com", "builder-of-things-5"),
    "star*": ("star@example.com", "asterisk-pass-6"),
}


def _hash(password):
    return subprocess.run(["/usr/sbin/slappasswd", "-s", password], capture_output=True, text=True,
                          check=True).stdout.strip()


class Slapd:
    def __init__(self):
        self.base = tempfile.mkdtemp(prefix="kisee-slapd-")
        self.certs = tls_support.make_certificates(os.path.join(self.base, "tls"))
        self.port = harness.free_port()
        self.tls_port = harness.free_port()
        db = os.path.join(self.base, "db")
        os.makedirs(db)
        self.conf = os.path.join(self.base, "slapd.conf")
        with open(self.conf, "w") as f:
            f.write(f"""include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
pidfile {self.base}/slapd.pid
argsfile {self.base}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
TLSCACertificateFile {self.certs['ca']}
TLSCertificateFile {self.certs['cert']}
TLSCertificateKeyFile {self.certs['key']}
# This server accepts an unauthenticated bind (a DN with an empty password)
# as an anonymous success: kisee must never take that for a login.
allow bind_anon_dn
database mdb
maxsize 16777216
suffix "{SUFFIX}"
rootdn "cn=admin,{SUFFIX}"
rootpw admin-secret-99
directory {db}
access to attrs=userPassword
  by dn.exact="{READER_DN}" write
  by self write
  by anonymous auth
  by * none
access to * by * read
""")
        entries = [f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\n"
                   f"dc: example\no: Example\n",
                   f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n",
                   f"dn: {READER_DN}\nobjectClass: organizationalRole\n"
                   f"objectClass: simpleSecurityObject\ncn: kisee\n"
                   f"userPassword: {_hash(READER_PASSWORD)}\n"]
        for uid, (mail, password) in USERS.items():
            entries.append(f"dn: uid={uid},{PEOPLE}\n"
                           f"objectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\nsn: {uid}\n"
                           f"mail: {mail}\nuserPassword: {_hash(password)}\n")
        ldif = os.path.join(self.base, "data.ldif")
        with open(ldif, "w") as f:
            f.write("\n".join(entries))
        subprocess.run(["/usr/sbin/slapadd", "-f", self.conf, "-l", ldif], capture_output=True, text=True,
                       check=True, timeout=60)
        self.process = None
        self.start()

    def start(self):
        urls = f"ldap://127.0.0.1:{self.port}/ ldaps://127.0.0.1:{self.tls_port}/"
        # -d 0 keeps slapd in the foreground: the pid is ours to stop.
        self.process = harness.Process(["/usr/sbin/slapd", "-f", self.conf, "-h", urls, "-d", "0"])
        harness.wait_for_port(self.port, process=self.process.popen, timeout=30)
        harness.wait_for_port(self.tls_port, process=self.process.popen, timeout=30)

    def stop(self):
        if self.process is not None:
            self.process.cleanup()
            self.process = None

    def uri(self, tls=False):
        return f"ldaps://127.0.0.1:{self.tls_port}" if tls else f"ldap://127.0.0.1:{self.port}"

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)


if __name__ == "__main__":
    server = Slapd()
    try:
        print(subprocess.run(["ldapsearch", "-x", "-H", server.uri(), "-b", SUFFIX, "-LLL",
                              "(uid=alice)", "mail", "entryCSN"], capture_output=True,
                             text=True).stdout)
    finally:
        server.cleanup()
