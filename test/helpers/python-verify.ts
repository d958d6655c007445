import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * An independent verifier: Debian's python3-cryptography (apt python3-cryptography, installed by
 * test/env/install-deps.sh), sharing no code with ours. `dsse`: true when ANY of the envelope's
 * signatures verifies over PAE(payloadType, payload) with the key (cosign's rule for a
 * multi-signature envelope); `raw`: a cosign simplesigning signature over the payload bytes.
 * ECDSA is checked with SHA-256 (P-256 keys), Ed25519 pure, RSA PKCS#1 v1.5 SHA-256.
 */
const SCRIPT = `
import base64, json, sys
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
mode, data_file, pub_file = sys.argv[1], sys.argv[2], sys.argv[3]
pub = serialization.load_pem_public_key(open(pub_file, "rb").read())
def ok(sig, msg):
    try:
        if isinstance(pub, ed25519.Ed25519PublicKey): pub.verify(sig, msg)
        elif isinstance(pub, rsa.RSAPublicKey): pub.verify(sig, msg, padding.PKCS1v15(), hashes.SHA256())
        else: pub.verify(sig, msg, ec.ECDSA(hashes.SHA256()))
        return True
    except InvalidSignature:
        return False
if mode == "dsse":
    env = json.load(open(data_file))
    body = base64.b64decode(env["payload"], validate=True); t = env["payloadType"].encode()
    msg = b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)
    sigs = [base64.b64decode(s["sig"], validate=True) for s in env["signatures"]]
else:
    msg = open(data_file, "rb").read()
    sigs = [base64.b64decode(sys.argv[4], validate=True)]
sys.exit(0 if any(ok(s, msg) for s in sigs) else 1)
`;

const dir = mkdtempSync(join(tmpdir(), 'python-verify-'));
const script = join(dir, 'verify.py');
writeFileSync(script, SCRIPT);

function debianPython(): string {
  const list = spawnSync('dpkg', ['-L', 'python3-minimal'], { encoding: 'utf8' }).stdout ?? '';
  const path = list.split('\n').find((l) => l.endsWith('/bin/python3'));
  if (!path) throw new Error('python3-minimal missing: apt-get install python3-cryptography');
  return path;
}

let n = 0;
function run(args: string[]): boolean {
  const r = spawnSync(debianPython(), [script, ...args], { encoding: 'utf8' });
  if (r.status !== 0 && r.status !== 1) throw new Error(`python verifier failed: ${r.stderr}`);
  return r.status === 0;
}

function file(content: string | Uint8Array): string {
  const path = join(dir, `f${n++}`);
  writeFileSync(path, content);
  return path;
}

/** Whether a signature of the DSSE envelope verifies with `publicKeyPem`, per python3-cryptography. */
export function pythonVerifiesEnvelope(envelope: string | Uint8Array, publicKeyPem: string): boolean {
  return run(['dsse', file(envelope), file(publicKeyPem)]);
}

/** Whether the base64 `signature` over `payload` (a `.sig` layer) verifies, per python3-cryptography. */
export function pythonVerifiesRaw(payload: Uint8Array, signatureB64: string, publicKeyPem: string): boolean {
  return run(['raw', file(payload), file(publicKeyPem), signatureB64]);
}
