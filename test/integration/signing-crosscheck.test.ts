import { spawnSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { describe, expect, it } from 'vitest';
import { type DsseEnvelope, type KeyAlgorithm, KeySigner, signEnvelope } from '../../src/signing/index.ts';
import { verifyEnvelope } from '../../src/verify/envelope.ts';

/**
 * Envelopes we sign, checked by three verifiers that share no code with ours: openssl with a PAE
 * built in shell, Debian's python3-cryptography, and @sigstore/verify (offline trust material).
 * No apiserver or registry needed; needs openssl, jq and python3-cryptography (apt).
 */
const dir = mkdtempSync(join(tmpdir(), 'signing-crosscheck-'));
const TYPE = 'application/vnd.in-toto+json';
const STATEMENT = Buffer.from(
  JSON.stringify({
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'registry.example/app', digest: { sha256: 'a'.repeat(64) } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      buildDefinition: { buildType: 'https://tekton.dev/chains/v2/slsa', externalParameters: {} },
    },
  }),
);

const OPENSSL_SCRIPT = `#!/bin/sh
set -eu
ENV=$1; PUB=$2; HASH=$3; T=$(mktemp -d)
jq -r .payloadType "$ENV" | tr -d '\\n' > "$T/type"
jq -r .payload "$ENV" | base64 -d > "$T/body"
jq -r '.signatures[0].sig' "$ENV" | base64 -d > "$T/sig"
{ printf 'DSSEv1 %d ' "$(wc -c < "$T/type")"; cat "$T/type"; printf ' %d ' "$(wc -c < "$T/body")"; cat "$T/body"; } > "$T/pae"
if [ "$HASH" = none ]; then
  openssl pkeyutl -verify -pubin -inkey "$PUB" -rawin -in "$T/pae" -sigfile "$T/sig"
else
  openssl dgst "-$HASH" -verify "$PUB" -signature "$T/sig" "$T/pae"
fi
`;

const PYTHON_SCRIPT = `
import base64, json, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
env = json.load(open(sys.argv[1]))
pub = serialization.load_pem_public_key(open(sys.argv[2], "rb").read())
h = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}.get(sys.argv[3])
body = base64.b64decode(env["payload"], validate=True); t = env["payloadType"].encode()
msg = b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)
sig = base64.b64decode(env["signatures"][0]["sig"], validate=True)
if isinstance(pub, ed25519.Ed25519PublicKey): pub.verify(sig, msg)
elif isinstance(pub, rsa.RSAPublicKey): pub.verify(sig, msg, padding.PKCS1v15(), h)
else: pub.verify(sig, msg, ec.ECDSA(h))
print("OK")
`;

writeFileSync(join(dir, 'verify.sh'), OPENSSL_SCRIPT, { mode: 0o755 });
writeFileSync(join(dir, 'verify.py'), PYTHON_SCRIPT);

function debianPython(): string {
  const list = spawnSync('dpkg', ['-L', 'python3-minimal'], { encoding: 'utf8' }).stdout ?? '';
  const path = list.split('\n').find((l) => l.endsWith('/bin/python3'));
  if (!path) throw new Error('python3-minimal missing: apt-get install python3-cryptography');
  return path;
}
const PY = debianPython();

interface Case {
  name: string;
  algorithm: KeyAlgorithm;
  keys: () => { privateKey: KeyObject; publicKey: KeyObject };
  /** hash for openssl dgst / python; 'none' = Ed25519 */
  hash: 'sha256' | 'sha384' | 'sha512' | 'none';
  /** @sigstore/verify verifies ECDSA with SHA-256 only (crypto.verify with no digest) */
  sigstoreAccepts: boolean;
}

const ec = (namedCurve: string) => () => generateKeyPairSync('ec', { namedCurve });
const CASES: Case[] = [
  {
    name: 'ECDSA P-256',
    algorithm: 'ecdsa-p256-sha256',
    keys: ec('P-256'),
    hash: 'sha256',
    sigstoreAccepts: true,
  },
  {
    name: 'ECDSA P-384 (cosign.key)',
    algorithm: 'ecdsa-p384-sha384',
    keys: ec('P-384'),
    hash: 'sha384',
    sigstoreAccepts: false,
  },
  {
    name: 'ECDSA P-384 (x509.pem)',
    algorithm: 'ecdsa-p384-sha256',
    keys: ec('P-384'),
    hash: 'sha256',
    sigstoreAccepts: true,
  },
  {
    name: 'ECDSA P-521 (cosign.key)',
    algorithm: 'ecdsa-p521-sha512',
    keys: ec('P-521'),
    hash: 'sha512',
    sigstoreAccepts: false,
  },
  {
    name: 'ECDSA P-521 (x509.pem)',
    algorithm: 'ecdsa-p521-sha256',
    keys: ec('P-521'),
    hash: 'sha256',
    sigstoreAccepts: true,
  },
  {
    name: 'Ed25519',
    algorithm: 'ed25519',
    keys: () => generateKeyPairSync('ed25519'),
    hash: 'none',
    sigstoreAccepts: true,
  },
  {
    name: 'RSA 3072 PKCS#1 v1.5',
    algorithm: 'rsa-pkcs1v15-sha256',
    keys: () => generateKeyPairSync('rsa', { modulusLength: 3072 }),
    hash: 'sha256',
    sigstoreAccepts: true,
  },
];

let n = 0;
function files(envelope: DsseEnvelope, publicKey: KeyObject): { env: string; pub: string } {
  n++;
  const env = join(dir, `env-${n}.json`);
  const pub = join(dir, `pub-${n}.pem`);
  writeFileSync(env, JSON.stringify(envelope));
  writeFileSync(pub, publicKey.export({ format: 'pem', type: 'spki' }));
  return { env, pub };
}

function openssl(envelope: DsseEnvelope, publicKey: KeyObject, hash: string): boolean {
  const f = files(envelope, publicKey);
  const r = spawnSync('sh', [join(dir, 'verify.sh'), f.env, f.pub, hash], { encoding: 'utf8' });
  if (r.status === 0 && !/Verified OK|Signature Verified Successfully/.test(r.stdout))
    throw new Error(r.stdout);
  return r.status === 0;
}

function python(envelope: DsseEnvelope, publicKey: KeyObject, hash: string): boolean {
  const f = files(envelope, publicKey);
  const r = spawnSync(PY, [join(dir, 'verify.py'), f.env, f.pub, hash], { encoding: 'utf8' });
  if (r.status !== 0 && !r.stderr.includes('InvalidSignature'))
    throw new Error(`python verifier broke: ${r.stderr}`);
  return r.status === 0 && r.stdout.trim() === 'OK';
}

function sigstore(envelope: DsseEnvelope, publicKey: KeyObject): boolean {
  const bundle = bundleFromJSON({
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: {
      publicKey: { hint: 'k' },
      tlogEntries: [],
      timestampVerificationData: { rfc3161Timestamps: [] },
    },
    dsseEnvelope: envelope,
  });
  const trust = toTrustMaterial(
    {
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [],
      certificateAuthorities: [],
      ctlogs: [],
      timestampAuthorities: [],
    },
    () => ({ publicKey, validFor: () => true }),
  );
  try {
    new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(
      toSignedEntity(bundle),
    );
    return true;
  } catch {
    return false;
  }
}

describe.each(CASES)('$name', (c) => {
  it('verifies with openssl, python3-cryptography, @sigstore/verify and verifyEnvelope; rejects tampering', async () => {
    const { privateKey, publicKey } = c.keys();
    const signer = new KeySigner({ privateKey, algorithm: c.algorithm });
    const { envelope } = await signEnvelope(STATEMENT, TYPE, signer);
    const other = createPublicKey(c.keys().privateKey);
    const tampered = {
      ...envelope,
      payload: Buffer.from(STATEMENT.toString().replace('app', 'evil')).toString('base64'),
    };
    const swapped = { ...envelope, payloadType: 'application/vnd.in-toto+jsonx' };

    expect(openssl(envelope, publicKey, c.hash)).toBe(true);
    expect(python(envelope, publicKey, c.hash)).toBe(true);
    expect(verifyEnvelope(envelope, publicKey)).toEqual({ ok: true, keyId: signer.keyId });
    // @sigstore/verify 4.x hashes ECDSA with SHA-256 whatever the curve: see docs/keys.md.
    expect(sigstore(envelope, publicKey)).toBe(c.sigstoreAccepts);

    for (const [bad, key] of [
      [tampered, publicKey],
      [swapped, publicKey],
      [envelope, other],
    ] as const) {
      expect(openssl(bad, key, c.hash)).toBe(false);
      expect(python(bad, key, c.hash)).toBe(false);
      expect(sigstore(bad, key)).toBe(false);
      expect(verifyEnvelope(bad, key).ok).toBe(false);
    }
  });
});
