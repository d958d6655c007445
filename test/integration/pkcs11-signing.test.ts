import { spawnSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DsseEnvelope } from '../../src/signing/index.ts';
import { verifyEnvelope } from '../../src/verify/index.ts';
import { type LocalEnv, loadLocalEnv } from '../env/index.ts';
import { startTestObserver, type TestObserver } from '../helpers/observer.ts';
import { createSoftHsmToken, type SoftHsmToken, type TokenKeyType } from '../helpers/softhsm.ts';
import { completeBuildTaskRun, waitFor, waitForSigned } from '../helpers/tekton.ts';
import { pushTestImage } from '../helpers/test-image.ts';

// The observer signs with keys generated inside a SoftHSM2 token (its own token directory under
// .local/env/softhsm/): the envelopes verify with openssl (PAE built in shell) and @sigstore/verify;
// the private keys are non-extractable; a token that disappears mid-stream fails attempts as
// retryable (shown on /readyz and signing_token_errors_total) and signing resumes when it is back.
type Keys = { keys: { keyId: string; algorithm: string; publicKeyPem: string; active: boolean }[] };

interface Case {
  name: string;
  type: TokenKeyType;
  object: string;
  id: string;
  algorithm: string;
  /** openssl dgst hash, or none (Ed25519) */
  hash: 'sha256' | 'sha384' | 'none';
  /** @sigstore/verify checks ECDSA with SHA-256 only */
  sigstore: boolean;
  query?: string;
}

const CASES: Case[] = [
  {
    name: 'ECDSA P-256',
    type: 'EC:prime256v1',
    object: 'p256',
    id: '01',
    algorithm: 'ecdsa-p256-sha256',
    hash: 'sha256',
    sigstore: true,
  },
  {
    name: 'ECDSA P-384',
    type: 'EC:secp384r1',
    object: 'p384',
    id: '02',
    algorithm: 'ecdsa-p384-sha384',
    hash: 'sha384',
    sigstore: false,
  },
  {
    name: 'RSA 2048 PKCS#1 v1.5',
    type: 'rsa:2048',
    object: 'rsa',
    id: '03',
    algorithm: 'rsa-pkcs1v15-sha256',
    hash: 'sha256',
    sigstore: true,
  },
  {
    name: 'RSA 2048 PSS',
    type: 'rsa:2048',
    object: 'rsa-pss',
    id: '05',
    algorithm: 'rsa-pss-sha256',
    hash: 'sha256',
    sigstore: false,
    query: '&x-rsa-scheme=pss',
  },
  {
    name: 'Ed25519',
    type: 'EC:edwards25519',
    object: 'ed25519',
    id: '04',
    algorithm: 'ed25519',
    hash: 'none',
    sigstore: true,
  },
];

const dir = mkdtempSync(join(tmpdir(), 'pkcs11-signing-'));
const OPENSSL = `set -eu
ENV=$1; PUB=$2; HASH=$3; PSS=$4; T=$(mktemp -d)
jq -r .payloadType "$ENV" | tr -d '\\n' > "$T/type"
jq -r .payload "$ENV" | base64 -d > "$T/body"
jq -r '.signatures[0].sig' "$ENV" | base64 -d > "$T/sig"
{ printf 'DSSEv1 %d ' "$(wc -c < "$T/type")"; cat "$T/type"; printf ' %d ' "$(wc -c < "$T/body")"; cat "$T/body"; } > "$T/pae"
if [ "$HASH" = none ]; then
  openssl pkeyutl -verify -pubin -inkey "$PUB" -rawin -in "$T/pae" -sigfile "$T/sig"
elif [ "$PSS" = pss ]; then
  openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -verify "$PUB" -signature "$T/sig" "$T/pae"
else
  openssl dgst "-$HASH" -verify "$PUB" -signature "$T/sig" "$T/pae"
fi`;

let n = 0;
function openssl(envelope: string, publicKeyPem: string, c: Case): boolean {
  n++;
  writeFileSync(join(dir, `env-${n}.json`), envelope);
  writeFileSync(join(dir, `pub-${n}.pem`), publicKeyPem);
  const pss = c.algorithm === 'rsa-pss-sha256' ? 'pss' : 'pkcs1';
  const r = spawnSync(
    'sh',
    ['-c', OPENSSL, 'v', join(dir, `env-${n}.json`), join(dir, `pub-${n}.pem`), c.hash, pss],
    {
      encoding: 'utf8',
    },
  );
  return r.status === 0 && /Verified OK|Signature Verified Successfully/.test(r.stdout);
}

function sigstore(envelope: DsseEnvelope, publicKeyPem: string): boolean {
  const bundle = bundleFromJSON({
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: {
      publicKey: { hint: 'k' },
      tlogEntries: [],
      timestampVerificationData: { rfc3161Timestamps: [] },
    },
    dsseEnvelope: envelope,
  });
  const publicKey = createPublicKey(publicKeyPem);
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

const kmsSettings = (uri: string) => ({
  'signers.kms.kmsref': uri,
  'artifacts.taskrun.signer': 'kms',
  'artifacts.pipelinerun.signer': 'kms',
  'artifacts.oci.signer': 'kms',
  'attestation.retry-base-ms': '200',
});

describe('signing with keys inside a SoftHSM2 token', () => {
  let env: LocalEnv;
  let token: SoftHsmToken;
  let obs: TestObserver | undefined;
  beforeAll(() => {
    env = loadLocalEnv();
    token = createSoftHsmToken('observer');
    // the module reads its configuration when the observer (this process) initialises it
    process.env.SOFTHSM2_CONF = token.conf;
    for (const c of CASES) token.generate(c.type, c.object, c.id);
  });
  afterAll(async () => obs?.stop());

  async function attestOne(prefix: string): Promise<string> {
    const image = await pushTestImage(env.registry, `pkcs11/${prefix}-${Date.now()}`);
    const name = await completeBuildTaskRun(image, { name: `${prefix}-${Date.now()}` });
    const run = await waitForSigned('TaskRun', 'tenant-a', name);
    return Buffer.from(
      run.metadata.annotations?.[`chains.tekton.dev/signature-taskrun-${run.metadata.uid}`] ?? '',
      'base64',
    ).toString();
  }

  it('generated every private key inside the token as non-extractable (CKA_EXTRACTABLE=false)', () => {
    const listing = token.listObjects();
    const privateKeys = listing.split(/\n(?=\S)/).filter((o) => o.startsWith('Private Key Object'));
    expect(privateKeys).toHaveLength(CASES.length);
    for (const key of privateKeys)
      expect(key).toMatch(/Access:\s+sensitive, always sensitive, never extractable, local/);
  });

  it.each(CASES)(
    '$name: the observer signs with the token key; openssl and @sigstore/verify verify it',
    async (c) => {
      await obs?.stop();
      obs = await startTestObserver(env, kmsSettings(token.uri(c.object, c.query)));
      const envelope = await attestOne(c.object);
      const keys = (await obs.api('/api/v1/keys')).json<Keys>();
      const active = keys.keys.find((k) => k.active);
      expect(active?.algorithm).toBe(c.algorithm);
      const parsed = JSON.parse(envelope) as DsseEnvelope;
      expect(parsed.signatures[0]?.keyid).toBe(active?.keyId);
      expect(openssl(envelope, active!.publicKeyPem, c)).toBe(true);
      expect(verifyEnvelope(envelope, active!.publicKeyPem)).toMatchObject({ ok: true });
      if (c.sigstore) expect(sigstore(parsed, active!.publicKeyPem)).toBe(true);
      // the Secret's throwaway key did not sign
      expect(openssl(envelope, obs.publicKeyPem, c)).toBe(false);
      expect(obs.logs()).not.toContain(readPin(token));
    },
  );

  it('a token that disappears fails attempts as retryable and signing resumes when it is back', async () => {
    await obs?.stop();
    obs = await startTestObserver(env, kmsSettings(token.uri('p256')));
    await attestOne('before-unplug');
    const readyz = async () => {
      const body = (await (await fetch(`${obs!.observer.address}/readyz`)).json()) as {
        checks: Record<string, { ok: boolean; message?: string }>;
      };
      return body.checks['signing-key']!;
    };
    renameSync(token.tokenDir, `${token.tokenDir}.unplugged`);
    let name = '';
    try {
      const image = await pushTestImage(env.registry, `pkcs11/unplugged-${Date.now()}`);
      name = await completeBuildTaskRun(image, { name: `unplugged-${Date.now()}` });
      await waitFor('a failed signing attempt', async () => {
        const errors = await obs!.metrics.signingTokenErrors.get();
        return errors.values.some((v) => v.value > 0) ? true : undefined;
      });
      console.log(
        obs!
          .logs()
          .split('\n')
          .filter((l) => /CKR_|PKCS#11|signing/.test(l))
          .slice(-8)
          .join('\n'),
      );
      const check = await readyz();
      expect(check.ok).toBe(false);
      expect(check.message).toMatch(/object=p256 .*: (C_Sign|opening the token): /);
    } finally {
      renameSync(`${token.tokenDir}.unplugged`, token.tokenDir);
    }
    const run = await waitForSigned('TaskRun', 'tenant-a', name);
    const envelope = Buffer.from(
      run.metadata.annotations?.[`chains.tekton.dev/signature-taskrun-${run.metadata.uid}`] ?? '',
      'base64',
    ).toString();
    const keys = (await obs.api('/api/v1/keys')).json<Keys>();
    expect(openssl(envelope, keys.keys[0]!.publicKeyPem, CASES[0]!)).toBe(true);
    await waitFor('readyz ok again', async () => ((await readyz()).ok ? true : undefined));
  });
});

describe('a PKCS#11 PIN the token refuses', () => {
  let obs: TestObserver | undefined;
  afterAll(async () => obs?.stop());

  it('keeps the observer up but not ready, naming CKR_PIN_INCORRECT, and signs once the PIN file is right', async () => {
    const env = loadLocalEnv();
    const token = createSoftHsmToken('bad-pin');
    process.env.SOFTHSM2_CONF = token.conf;
    token.generate('EC:prime256v1', 'p256', '01');
    const pin = readPin(token);
    const pinFile = join(dir, 'pin');
    writeFileSync(pinFile, 'not-the-pin\n');
    const uri = token.uri('p256').replace(token.pinFile, pinFile);
    obs = await startTestObserver(env, kmsSettings(uri));
    const readyz = async () =>
      (
        (await (await fetch(`${obs!.observer.address}/readyz`)).json()) as {
          checks: Record<string, { ok: boolean; message?: string }>;
        }
      ).checks['signing-key']!;
    expect(await readyz()).toMatchObject({ ok: false, message: expect.stringMatching(/CKR_PIN_INCORRECT/) });
    const image = await pushTestImage(env.registry, `pkcs11/bad-pin-${Date.now()}`);
    const name = await completeBuildTaskRun(image, { name: `bad-pin-${Date.now()}` });
    await waitFor('a refused open counted', async () => {
      const errors = await obs!.metrics.signingTokenErrors.get();
      return errors.values.some((v) => v.labels.step === 'open' && v.value > 0) ? true : undefined;
    });
    writeFileSync(pinFile, `${pin}\n`);
    await waitForSigned('TaskRun', 'tenant-a', name);
    await waitFor('ready with the right PIN', async () => ((await readyz()).ok ? true : undefined));
    expect(obs.logs()).not.toContain(pin);
  });
});

function readPin(token: SoftHsmToken): string {
  return spawnSync('cat', [token.pinFile], { encoding: 'utf8' }).stdout.trim();
}
