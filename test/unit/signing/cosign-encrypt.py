"""Independent cosign-key encrypter for tests: writes an `ENCRYPTED SIGSTORE PRIVATE KEY` PEM.

Uses Debian's python3: hashlib.scrypt (OpenSSL) and PyNaCl (libsodium), so it shares no code
with src/signing/cosign-key.ts (node:crypto scrypt + tweetnacl).
Usage: cosign-encrypt.py PKCS8_PEM_FILE PASSWORD_FILE N [LABEL]  (PEM on stdout; keys are THROWAWAY)
"""
import base64, hashlib, json, os, sys

import nacl.secret
from cryptography.hazmat.primitives import serialization

pem_path, password_path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
label = sys.argv[4] if len(sys.argv) > 4 else "ENCRYPTED SIGSTORE PRIVATE KEY"
key = serialization.load_pem_private_key(open(pem_path, "rb").read(), password=None)
der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
password = open(password_path, "rb").read()
salt, nonce = os.urandom(32), os.urandom(24)
secret = hashlib.scrypt(password, salt=salt, n=n, r=8, p=1, dklen=32, maxmem=256 * n * 8 + 1024 * 1024)
ciphertext = nacl.secret.SecretBox(secret).encrypt(der, nonce).ciphertext
body = json.dumps({
    "kdf": {"name": "scrypt", "params": {"N": n, "r": 8, "p": 1}, "salt": base64.b64encode(salt).decode()},
    "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode()},
    "ciphertext": base64.b64encode(ciphertext).decode(),
}, separators=(",", ":")).encode()
b64 = base64.b64encode(body).decode()
lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
sys.stdout.write("-----BEGIN %s-----\n%s\n-----END %s-----\n" % (label, "\n".join(lines), label))
