#!/usr/bin/env python3
"""Test certificates for companion's HTTPS tests: one throwaway CA and leaf certificates
signed by it, ECDSA P-256, written as PEM.

    make_certs.py OUTDIR NAME=DNS[,DNS...][@DAYS[@START_OFFSET_DAYS]] ...

writes OUTDIR/ca.pem and, per NAME, OUTDIR/NAME.pem (leaf) and OUTDIR/NAME.key. DAYS is
the validity (default 30); START_OFFSET_DAYS moves notBefore (negative: in the past, so
`a=a.test@1@-10` is a certificate that expired nine days ago)."""
import datetime
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def write_key(path, key):
    with open(path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    os.chmod(path, 0o600)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "companion test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=365))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    with open(os.path.join(out, "ca.pem"), "wb") as f:
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    write_key(os.path.join(out, "ca.key"), ca_key)
    for spec in sys.argv[2:]:
        name, rest = spec.split("=", 1)
        parts = rest.split("@")
        names = parts[0].split(",")
        days = int(parts[1]) if len(parts) > 1 else 30
        offset = int(parts[2]) if len(parts) > 2 else 0
        start = now + datetime.timedelta(days=offset) - datetime.timedelta(minutes=5)
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
                .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=days))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .sign(ca_key, hashes.SHA256()))
        with open(os.path.join(out, name + ".pem"), "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        write_key(os.path.join(out, name + ".key"), key)


if __name__ == "__main__":
    main()
