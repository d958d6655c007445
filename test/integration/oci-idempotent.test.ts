import { execFile } from 'node:child_process';
import { generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { INTOTO_PAYLOAD_TYPE } from '../../src/intoto/index.ts';
import { createLogger } from '../../src/observability/index.ts';
import {
  ANNOTATION_PAYLOAD_DIGEST,
  type Descriptor,
  digestTag,
  RegistryClient,
  sha256Digest,
} from '../../src/oci/index.ts';
import type { CheckedImage } from '../../src/policy/index.ts';
import type { PublicKeyInfo } from '../../src/signing/index.ts';
import { type ImageRef, OciBackend, type SignedArtifact } from '../../src/storage/index.ts';
import type { RunRef } from '../../src/tekton/run-ref.ts';
import { publishedKeyVerifier } from '../../src/verify/index.ts';
import { loadLocalEnv } from '../env/local-env.ts';
import { checkedImage } from '../helpers/checked-images.ts';
import { provenanceStatement, signedImageSignature, signedProvenance } from '../helpers/signed-artifacts.ts';
import { pushTestImage } from '../helpers/test-image.ts';

// PO_ENV_FILE lets these tests run against hand-started peers; normally .local/env/env.json.
const env = loadLocalEnv(process.env.PO_ENV_FILE || undefined);
const REPO = 'oci-test/idempotent';
const client = new RegistryClient({ registry: env.registry, insecure: true });
const run: RunRef = {
  kind: 'TaskRun',
  namespace: 'tenant-a',
  name: 'b-1',
  uid: 'uid-b',
  serviceAccountName: 'default',
};
const _enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined) => new TextDecoder().decode(b);
const current = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const retired = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = (k: KeyObject) => k.export({ type: 'spki', format: 'pem' }).toString();
const published: PublicKeyInfo[] = [
  { keyId: 'current', algorithm: 'ecdsa-p256-sha256', publicKeyPem: pem(current.publicKey), active: true },
  { keyId: 'retired', algorithm: 'ecdsa-p256-sha256', publicKeyPem: pem(retired.publicKey), active: false },
];
const logger = createLogger({ level: 'silent' });
/** the local registry is on loopback, which the observer refuses unless listed */
const network = { allowedPrivate: ['127.0.0.1'] };
/** A fresh backend each time: nothing in memory, as after a restart or on another replica. */
const backend = (o: { settleMs?: number } = {}) =>
  new OciBackend({ logger, insecure: true, network, verifies: publishedKeyVerifier(() => published), ...o });

async function pushImage(): Promise<CheckedImage> {
  const { digest } = await pushTestImage(env.registry, REPO, randomUUID());
  return checkedImage({ repository: `${env.registry}/${REPO}`, digest });
}

const statement = (image: ImageRef) => provenanceStatement([image]);
/** The payload signed now (ECDSA: a different envelope every call). */
const attestation = (image: CheckedImage, payload: Uint8Array, key = current.privateKey) =>
  signedProvenance([image], payload, key);
const imageSignature = (image: CheckedImage, key = current.privateKey) => signedImageSignature(image, key);

async function layers(image: ImageRef, suffix: '.att' | '.sig'): Promise<Descriptor[]> {
  const m = await client.getManifest(REPO, digestTag(image.digest, suffix));
  return m ? JSON.parse(dec(m.bytes)).layers : [];
}

const envelopeDigest = (a: SignedArtifact) =>
  sha256Digest((a as { envelopeBytes: Uint8Array }).envelopeBytes);

describe('OciBackend stores by payload: a re-signed retry, a restart or a racing replica adds no layer', () => {
  it('re-signing the same payload (new ECDSA signatures) leaves one .att and one .sig layer, annotated with the payload digest', async () => {
    const image = await pushImage();
    const payload = statement(image);
    const first = attestation(image, payload);
    expect(await backend().store({ run, artifact: first })).toMatchObject({ ok: true });
    expect(await backend().store({ run, artifact: imageSignature(image) })).toMatchObject({ ok: true });

    const resigned = attestation(image, payload);
    expect(envelopeDigest(resigned)).not.toBe(envelopeDigest(first));
    expect(await backend().store({ run, artifact: resigned })).toMatchObject({ ok: true });
    expect(await backend().store({ run, artifact: imageSignature(image) })).toMatchObject({ ok: true });
    // signed by the retired key (before a rotation): still the same payload, still stored
    expect(
      await backend().store({ run, artifact: attestation(image, payload, retired.privateKey) }),
    ).toMatchObject({ ok: true });

    const att = await layers(image, '.att');
    expect(att.map((l) => l.digest)).toEqual([envelopeDigest(first)]);
    expect(att[0].annotations).toMatchObject({
      'dev.cosignproject.cosign/signature': '',
      [ANNOTATION_PAYLOAD_DIGEST]: sha256Digest(payload),
    });
    const sig = await layers(image, '.sig');
    expect(sig).toHaveLength(1);
    expect(sig[0].annotations?.[ANNOTATION_PAYLOAD_DIGEST]).toBe(sig[0].digest);

    // another payload for the same image is another attestation
    expect(await backend().store({ run, artifact: attestation(image, statement(image)) })).toMatchObject({
      ok: true,
    });
    expect(await layers(image, '.att')).toHaveLength(2);
  });

  it('a planted layer claiming our payload with a bogus signature does not stop us storing ours', async () => {
    const image = await pushImage();
    const payload = statement(image);
    // an attacker with push rights stores our payload signed by their key, annotated as ours
    const planted = attestation(image, payload, attacker.privateKey);
    const plantedSig = imageSignature(image, attacker.privateKey);
    const foreign = new OciBackend({ logger, insecure: true, network });
    expect(await foreign.store({ run, artifact: planted })).toMatchObject({ ok: true });
    expect(await foreign.store({ run, artifact: plantedSig })).toMatchObject({ ok: true });
    expect((await layers(image, '.att'))[0].annotations?.[ANNOTATION_PAYLOAD_DIGEST]).toBe(
      sha256Digest(payload),
    );

    const ours = attestation(image, payload);
    const oursSig = imageSignature(image);
    expect(await backend().store({ run, artifact: ours })).toMatchObject({ ok: true });
    expect(await backend().store({ run, artifact: oursSig })).toMatchObject({ ok: true });
    expect((await layers(image, '.att')).map((l) => l.digest)).toEqual([
      envelopeDigest(planted),
      envelopeDigest(ours),
    ]);
    const sig = await layers(image, '.sig');
    expect(sig.map((l) => l.annotations?.['dev.cosignproject.cosign/signature'])).toEqual([
      Buffer.from((plantedSig as { signature: Uint8Array }).signature).toString('base64'),
      Buffer.from((oursSig as { signature: Uint8Array }).signature).toString('base64'),
    ]);
    // and ours, once there, counts as stored
    expect(await backend().store({ run, artifact: attestation(image, payload) })).toMatchObject({ ok: true });
    expect(await layers(image, '.att')).toHaveLength(2);
  });

  it('three writers (two backends, another process) storing the same payload with different signatures at once leave one layer, all ok', async () => {
    const image = await pushImage();
    const payload = statement(image);
    const a = backend({ settleMs: 50 });
    const b = backend({ settleMs: 50 });
    const results = await Promise.all([
      a.store({ run, artifact: attestation(image, payload) }),
      a.store({ run, artifact: attestation(image, payload) }),
      b.store({ run, artifact: attestation(image, payload) }),
      otherProcessStores(image, payload),
    ]);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    const att = await layers(image, '.att');
    expect(att).toHaveLength(1);
    expect(att[0].annotations?.[ANNOTATION_PAYLOAD_DIGEST]).toBe(sha256Digest(payload));
  });

  it('sigstore-bundle mode: a re-signed payload adds no referrer, a planted bogus one does not stop ours', async () => {
    const image = await pushImage();
    const payload = statement(image);
    const bundles = (o: { verifies?: boolean } = {}) =>
      new OciBackend({
        logger,
        insecure: true,
        network,
        encoding: 'sigstore-bundle',
        ...(o.verifies === false ? {} : { verifies: publishedKeyVerifier(() => published) }),
      });
    expect(
      await bundles({ verifies: false }).store({
        run,
        artifact: attestation(image, payload, attacker.privateKey),
      }),
    ).toMatchObject({ ok: true });
    expect(await bundles().store({ run, artifact: attestation(image, payload) })).toMatchObject({ ok: true });
    expect(await bundles().store({ run, artifact: attestation(image, payload) })).toMatchObject({ ok: true });
    const index = JSON.parse(dec((await client.getManifest(REPO, digestTag(image.digest)))?.bytes));
    expect(index.manifests).toHaveLength(2);
    for (const m of index.manifests)
      expect(m.annotations[ANNOTATION_PAYLOAD_DIGEST]).toBe(sha256Digest(payload));
  });

  it('provenance-observer verify --image passes on what we stored (cosign ignores the extra annotation)', async () => {
    const image = await pushImage();
    expect(await backend().store({ run, artifact: attestation(image, statement(image)) })).toMatchObject({
      ok: true,
    });
    expect(await backend().store({ run, artifact: imageSignature(image) })).toMatchObject({ ok: true });
    const keyFile = join(mkdtempSync(join(tmpdir(), 'idem-')), 'cosign.pub');
    writeFileSync(keyFile, pem(current.publicKey));
    const bin = resolve(import.meta.dirname, '../../bin/provenance-observer.js');
    const ref = `${image.repository}@${image.digest}`;
    const { stdout } = await promisify(execFile)(process.execPath, [
      bin,
      'verify',
      '--key',
      keyFile,
      '--image',
      ref,
      '--insecure-registry',
    ]);
    expect(stdout).toMatch(/\.att layer 0 .* DSSE signature/);
    expect(stdout).toMatch(/\.sig layer 0 .* signature/);
    expect(stdout.trim().endsWith('verified')).toBe(true);
  });
});

/** The same payload signed and stored by another process with its own OciBackend and verifier. */
async function otherProcessStores(image: ImageRef, payload: Uint8Array): Promise<{ ok: boolean }> {
  const src = (p: string) => JSON.stringify(resolve(import.meta.dirname, '../../src', p));
  const script = `
    import { createPrivateKey, sign } from 'node:crypto';
    import { OciBackend } from ${src('storage/index.ts')};
    import { pae } from ${src('signing/index.ts')};
    import { publishedKeyVerifier } from ${src('verify/index.ts')};
    import { createLogger } from ${src('observability/index.ts')};
    const key = createPrivateKey(${JSON.stringify(current.privateKey.export({ type: 'pkcs8', format: 'pem' }))});
    const payload = Buffer.from(${JSON.stringify(Buffer.from(payload).toString('base64'))}, 'base64');
    const type = ${JSON.stringify(INTOTO_PAYLOAD_TYPE)};
    const envelope = { payloadType: type, payload: payload.toString('base64'), signatures: [{ keyid: '', sig: sign('sha256', pae(type, payload), key).toString('base64') }] };
    const b = new OciBackend({ logger: createLogger({ level: 'silent' }), insecure: true, network: { allowedPrivate: ['127.0.0.1'] }, settleMs: 50, verifies: publishedKeyVerifier(() => ${JSON.stringify(published)}) });
    const r = await b.store({ run: ${JSON.stringify(run)}, artifact: { type: 'provenance', key: 'k', predicateType: 'p', payload, envelope, envelopeBytes: new TextEncoder().encode(JSON.stringify(envelope)), images: [${JSON.stringify(image)}] } });
    console.log(JSON.stringify({ ok: r.ok, error: r.ok ? undefined : r.error.message }));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
  return JSON.parse(stdout);
}
