import { generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ObserverError } from '../../../src/errors.ts';
import {
  ANNOTATION_PAYLOAD_DIGEST,
  attestationLayer,
  type Descriptor,
  type ManifestResponse,
  referrerManifest,
  SIGSTORE_BUNDLE_V03,
  serializeManifest,
  sha256Digest,
  signatureLayer,
} from '../../../src/oci/index.ts';
import { pae } from '../../../src/signing/index.ts';
import {
  attestationStoredAs,
  bundleStoredAs,
  containersOver,
  ENVELOPE_OVERHEAD_BYTES,
  MAX_ENVELOPE_CONTAINERS,
  ownEnvelopeBound,
  type StoredPayloadDeps,
  signatureStoredAs,
} from '../../../src/storage/oci-stored-payload.ts';

const TYPE = 'application/vnd.in-toto+json';
const published = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const verifies = (message: Uint8Array, signature: Uint8Array) =>
  verify('sha256', message, published.publicKey, signature);
const enc = (s: string) => new TextEncoder().encode(s);
const payload = enc('{"_type":"https://in-toto.io/Statement/v1","n":1}');
const want = { payloadDigest: sha256Digest(payload), payloadBytes: payload.length, payloadType: TYPE };

/** A DSSE envelope over `body`, signed (ECDSA: a new signature every call) by `key`. */
function envelope(body: Uint8Array, key = published.privateKey, type = TYPE): Uint8Array {
  const sig = sign('sha256', pae(type, body), key).toString('base64');
  return enc(
    JSON.stringify({
      payloadType: type,
      payload: Buffer.from(body).toString('base64'),
      signatures: [{ sig }],
    }),
  );
}

/** Blobs and manifests by digest, counting reads; `fail` makes every read throw it. */
function fakeRegistry() {
  const blobs = new Map<string, Uint8Array>();
  const state = { reads: 0, fail: undefined as ObserverError | undefined };
  const client: StoredPayloadDeps['client'] = {
    async getBlob(_repo, digest) {
      state.reads++;
      if (state.fail) throw state.fail;
      const b = blobs.get(digest);
      if (!b) throw new ObserverError(`GET blob ${digest}: HTTP 404`, { code: 'registry', retryable: false });
      return b;
    },
    async getManifest(_repo, digest): Promise<ManifestResponse | undefined> {
      state.reads++;
      const b = blobs.get(digest);
      return b && { bytes: b, digest, mediaType: 'application/vnd.oci.image.manifest.v1+json' };
    },
  };
  const put = (bytes: Uint8Array) => {
    blobs.set(sha256Digest(bytes), bytes);
    return bytes;
  };
  return { deps: { client, repository: 'r', verifies }, state, put, blobs };
}

/** An .att layer as the registry lists it, its blob stored. */
function attLayer(r: ReturnType<typeof fakeRegistry>, env: Uint8Array, payloadDigest?: string): Descriptor {
  return attestationLayer(r.put(env), { ...(payloadDigest ? { payloadDigest } : {}) }).descriptor;
}

describe('attestationStoredAs: is an existing .att layer our payload, validly signed?', () => {
  it('same payload re-signed with a published key: stored (no new layer)', async () => {
    const r = fakeRegistry();
    const existing = attLayer(r, envelope(payload), want.payloadDigest);
    expect(await attestationStoredAs(r.deps, want)(existing)).toBe(true);
  });

  it('our payload digest in the annotation but a bogus signature: not stored (we store ours)', async () => {
    const r = fakeRegistry();
    const bogus = enc(
      JSON.stringify({
        payloadType: TYPE,
        payload: Buffer.from(payload).toString('base64'),
        signatures: [{ sig: 'AAAA' }],
      }),
    );
    expect(await attestationStoredAs(r.deps, want)(attLayer(r, bogus, want.payloadDigest))).toBe(false);
    const strangers = envelope(payload, stranger.privateKey);
    expect(await attestationStoredAs(r.deps, want)(attLayer(r, strangers, want.payloadDigest))).toBe(false);
  });

  it('the annotation claims our payload but the envelope holds another: not stored', async () => {
    const r = fakeRegistry();
    const other = attLayer(r, envelope(enc('{"other":true}')), want.payloadDigest);
    expect(await attestationStoredAs(r.deps, want)(other)).toBe(false);
  });

  it('a different payload: not stored, decided from the annotation without reading the blob', async () => {
    const r = fakeRegistry();
    const other = enc('{"n":2}');
    const layer = attLayer(r, envelope(other), sha256Digest(other));
    expect(await attestationStoredAs(r.deps, want)(layer)).toBe(false);
    expect(r.state.reads).toBe(0);
  });

  it('a layer without the annotation (not written by us) is left alone unread, and reported', async () => {
    const r = fakeRegistry();
    const reported: string[] = [];
    const deps = { ...r.deps, report: (_: Descriptor, reason: string) => reported.push(reason) };
    expect(await attestationStoredAs(deps, want)(attLayer(r, envelope(payload)))).toBe(false);
    expect(r.state.reads).toBe(0);
    expect(reported).toEqual(['unannotated']);
  });

  it('a layer under our annotation larger than an envelope of the payload can be is not fetched, and reported', async () => {
    const r = fakeRegistry();
    const reported: string[] = [];
    const deps = { ...r.deps, report: (_: Descriptor, reason: string) => reported.push(reason) };
    // the planted `[[],[],…]` of the issue, a size just under the old 16 MiB cap
    const planted = attLayer(r, enc(`[${'[],'.repeat(1000)}[]]`), want.payloadDigest);
    expect(await attestationStoredAs(deps, want)({ ...planted, size: 16 * 1024 * 1024 - 1 })).toBe(false);
    expect(r.state.reads).toBe(0);
    expect(reported).toEqual(['oversized']);
    expect(ownEnvelopeBound(payload.length)).toBeLessThan(ENVELOPE_OVERHEAD_BYTES + payload.length * 2);
  });

  it('a blob within the bound with more containers than an envelope has is never parsed, and reported', async () => {
    const r = fakeRegistry();
    const reported: string[] = [];
    const deps = { ...r.deps, report: (_: Descriptor, reason: string) => reported.push(reason) };
    const nested = attLayer(r, enc(`[${'[],'.repeat(MAX_ENVELOPE_CONTAINERS)}[]]`), want.payloadDigest);
    expect(await attestationStoredAs(deps, want)(nested)).toBe(false);
    expect(reported).toEqual(['not_an_envelope']);
    // brackets inside strings (an envelope's base64 never has them, a payloadType might) do not count
    expect(containersOver(enc(JSON.stringify({ a: `${'['.repeat(1000)}"\\` })), 2)).toBe(false);
    expect(containersOver(enc(`${JSON.stringify({ a: '\\' })}[[[`), 2)).toBe(true);
  });

  it('another payloadType over the same bytes is another statement', async () => {
    const r = fakeRegistry();
    const layer = attLayer(r, envelope(payload, published.privateKey, 'text/plain'), want.payloadDigest);
    expect(await attestationStoredAs(r.deps, want)(layer)).toBe(false);
  });

  it('a blob that is absent, oversized or not what its digest says is not stored; a retryable read error is thrown', async () => {
    const r = fakeRegistry();
    const env = envelope(payload);
    const layer = attestationLayer(env, { payloadDigest: want.payloadDigest }).descriptor;
    expect(await attestationStoredAs(r.deps, want)(layer)).toBe(false); // 404
    r.blobs.set(layer.digest, envelope(payload)); // other bytes under the digest
    expect(await attestationStoredAs(r.deps, want)(layer)).toBe(false);
    r.blobs.set(layer.digest, env);
    expect(await attestationStoredAs(r.deps, want)({ ...layer, size: 1 << 30 })).toBe(false);
    r.state.fail = new ObserverError('GET blob: HTTP 503', { code: 'registry', retryable: true });
    await expect(attestationStoredAs(r.deps, want)(layer)).rejects.toMatchObject({ retryable: true });
  });
});

describe('signatureStoredAs: is an existing .sig layer our simplesigning payload, validly signed?', () => {
  const simple = enc('{"critical":{"image":{"docker-manifest-digest":"sha256:ab"}}}');
  const layer = (sig: Uint8Array, body = simple) =>
    signatureLayer(body, sig, { payloadDigest: sha256Digest(body) }).descriptor;

  it('same payload with another valid signature: stored; bogus or foreign signature: not; other payload: not', async () => {
    const check = signatureStoredAs({ verifies }, simple);
    expect(await check(layer(sign('sha256', simple, published.privateKey)))).toBe(true);
    expect(await check(layer(new Uint8Array([1, 2, 3])))).toBe(false);
    expect(await check(layer(sign('sha256', simple, stranger.privateKey)))).toBe(false);
    const other = enc('{"other":1}');
    expect(await check(layer(sign('sha256', other, published.privateKey), other))).toBe(false);
  });
});

describe('bundleStoredAs: is an existing referrer a bundle of our payload, validly signed?', () => {
  function referrer(r: ReturnType<typeof fakeRegistry>, env: Uint8Array): Descriptor {
    const bundle = r.put(
      enc(
        JSON.stringify({
          mediaType: SIGSTORE_BUNDLE_V03,
          dsseEnvelope: JSON.parse(new TextDecoder().decode(env)),
        }),
      ),
    );
    const subject = {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      size: 1,
      digest: sha256Digest(enc('img')),
    };
    const annotations = { [ANNOTATION_PAYLOAD_DIGEST]: want.payloadDigest };
    const bytes = r.put(
      serializeManifest(
        referrerManifest(subject, { artifactType: SIGSTORE_BUNDLE_V03, layer: bundle, annotations }),
      ),
    );
    return {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      size: bytes.length,
      digest: sha256Digest(bytes),
      annotations,
      artifactType: SIGSTORE_BUNDLE_V03,
    };
  }

  it('valid: stored; bogus signature under our annotation: not stored', async () => {
    const r = fakeRegistry();
    expect(await bundleStoredAs(r.deps, want)(referrer(r, envelope(payload)))).toBe(true);
    expect(await bundleStoredAs(r.deps, want)(referrer(r, envelope(payload, stranger.privateKey)))).toBe(
      false,
    );
  });
});

describe("per-tenant keys: each signer's entry is decided with its own keys", () => {
  const tenantA = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const tenantB = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keyOf = { 'tenant-a': tenantA.publicKey, 'tenant-b': tenantB.publicKey } as Record<string, KeyObject>;
  // the platform's keys unless a tenant is named, then that tenant's only (scopedKeyVerifier's contract)
  const scoped = (message: Uint8Array, signature: Uint8Array, signedBy?: string) => {
    const key = signedBy === undefined ? published.publicKey : keyOf[signedBy];
    return key !== undefined && verify('sha256', message, key, signature);
  };
  const simple = enc('{"critical":{"image":{"docker-manifest-digest":"sha256:cd"}}}');
  const layer = (key: KeyObject) =>
    signatureLayer(simple, sign('sha256', simple, key), { payloadDigest: sha256Digest(simple) }).descriptor;

  it(".sig: the platform's layer does not stand for a tenant's, nor one tenant's for another's", async () => {
    const platformCheck = signatureStoredAs({ verifies: scoped }, simple);
    const tenantCheck = signatureStoredAs({ verifies: scoped }, simple, 'tenant-a');
    expect(await platformCheck(layer(published.privateKey))).toBe(true);
    expect(await tenantCheck(layer(published.privateKey))).toBe(false);
    expect(await tenantCheck(layer(tenantB.privateKey))).toBe(false);
    expect(await tenantCheck(layer(tenantA.privateKey))).toBe(true);
    expect(await platformCheck(layer(tenantA.privateKey))).toBe(false);
  });

  it('.att: a tenant envelope counts as stored only with both the platform and that tenant signature', async () => {
    const both = (tenantKey: KeyObject) => {
      const message = pae(TYPE, payload);
      return enc(
        JSON.stringify({
          payloadType: TYPE,
          payload: Buffer.from(payload).toString('base64'),
          signatures: [
            { sig: sign('sha256', message, published.privateKey).toString('base64') },
            { sig: sign('sha256', message, tenantKey).toString('base64') },
          ],
        }),
      );
    };
    const r = fakeRegistry();
    const deps = { ...r.deps, verifies: scoped };
    const check = attestationStoredAs(deps, { ...want, tenant: 'tenant-a' });
    expect(await check(attLayer(r, both(tenantA.privateKey), want.payloadDigest))).toBe(true);
    // the platform signature alone (stored before tenant keys), or beside another tenant's: not this one
    expect(await check(attLayer(r, envelope(payload), want.payloadDigest))).toBe(false);
    expect(await check(attLayer(r, both(tenantB.privateKey), want.payloadDigest))).toBe(false);
    expect(await check(attLayer(r, envelope(payload, tenantA.privateKey), want.payloadDigest))).toBe(false);
    // without a tenant the platform signature is what counts, as before
    expect(
      await attestationStoredAs(deps, want)(attLayer(r, both(tenantB.privateKey), want.payloadDigest)),
    ).toBe(true);
  });
});
