import { generateKeyPairSync } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Attestor } from '../../../src/attest/index.ts';
import { findLogged } from '../../../src/attest/sign-artifacts.ts';
import { parseConfig } from '../../../src/config/index.ts';
import type { Provenance } from '../../../src/formats/index.ts';
import { createMetrics } from '../../../src/observability/index.ts';
import {
  LazyTransparencyLog,
  loadX509Pem,
  type Signer,
  type TransparencyLog,
} from '../../../src/signing/index.ts';
import type { BackendName, StorageBackend } from '../../../src/storage/index.ts';
import { verifyEnvelope } from '../../../src/verify/envelope.ts';
import { type RekorStandIn, startRekorStandIn } from '../../helpers/rekor-stand-in.ts';
import { FakeBackend, taskRun, taskRunRef } from '../fakes.ts';

const keySigner = (): Signer => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  return loadX509Pem(new TextEncoder().encode(pem), { namespace: 'ns', name: 's', entry: 'x509.pem' });
};

const LOOKUP = 'POST /api/v1/index/retrieve';
const FETCH = 'POST /api/v1/log/entries/retrieve';
const UPLOAD = 'POST /api/v1/log/entries';

const results = [
  { name: 'IMAGE_URL', value: 'registry.test/app:v1' },
  { name: 'IMAGE_DIGEST', value: `sha256:${'b'.repeat(64)}` },
];

/**
 * The Rekor look-up through the real Attestor/signRun path, the production Rekor client
 * (LazyTransparencyLog: @sigstore/sign uploads, fetch look-ups) and a Rekor v1 stand-in over HTTP.
 * Each attestation is a fresh Attestor on a run without annotations: what an observer restarted
 * after a crash between the upload and the annotations, or on an emptied index, does.
 */
describe('Rekor look-up before signing', () => {
  let rekor: RekorStandIn;
  const signer = keySigner();
  beforeEach(async () => {
    rekor = await startRekorStandIn();
  });
  afterEach(() => rekor.close());

  const attestFresh = async (by: Signer = signer) => {
    const tekton = new FakeBackend('tekton');
    const attestor = new Attestor({
      config: parseConfig({
        'transparency.enabled': 'true',
        'transparency.url': rekor.url,
        'artifacts.taskrun.storage': 'tekton',
        'artifacts.oci.storage': 'tekton',
      }),
      backends: new Map<BackendName, StorageBackend>([['tekton', tekton]]),
      metrics: createMetrics(),
      transparencyLog: () => new LazyTransparencyLog({ url: rekor.url, retry: 0 }),
    });
    const out = await attestor.attest(taskRunRef, taskRun(results), [], by);
    const stored = tekton.requests.find((r) => r.artifact.type === 'provenance')?.artifact;
    if (stored?.type !== 'provenance') throw new Error('no provenance stored');
    return { out, stored };
  };
  const loggedSignature = (entryBody: string) =>
    JSON.parse(Buffer.from(entryBody, 'base64').toString()).spec.signatures[0].signature as string;

  it('logs the first attestation once, and the stored envelope carries the logged signature', async () => {
    const { out, stored } = await attestFresh();
    expect(rekor.requests).toEqual([LOOKUP, UPLOAD]);
    expect(rekor.created.count).toBe(1);
    expect(out.transparencyUrl).toBe(`${rekor.url}/api/v1/log/entries?logIndex=0`);
    const bundle = JSON.parse(stored.rekorBundle ?? '{}');
    expect(loggedSignature(bundle.Payload.body)).toBe(stored.envelope.signatures[0]?.sig);
  });

  it('attested again from scratch, reuses the logged signature and entry: no new entry, no new signature', async () => {
    const first = await attestFresh();
    const again = await attestFresh();
    expect(rekor.created).toEqual({ count: 1, conflicts: 0 });
    expect(again.out.transparencyUrl).toBe(first.out.transparencyUrl);
    expect(Buffer.from(again.stored.envelopeBytes).toString()).toBe(
      Buffer.from(first.stored.envelopeBytes).toString(),
    );
    expect(again.stored.rekorBundle).toBe(first.stored.rekorBundle);
    expect(again.stored.envelope.signatures[0]?.keyid).toBe(signer.keyId);
    expect(verifyEnvelope(again.stored.envelope, signer.publicKeyPem).ok).toBe(true);
  });

  it('ignores an entry for our payload logged with a foreign key, and logs our own', async () => {
    const foreign = await attestFresh(keySigner());
    expect(rekor.created.count).toBe(1);
    rekor.requests.length = 0;
    const { out, stored } = await attestFresh();
    expect(rekor.requests).toEqual([LOOKUP, FETCH, UPLOAD]);
    expect(rekor.created.count).toBe(2);
    expect(out.transparencyUrl).toBe(`${rekor.url}/api/v1/log/entries?logIndex=1`);
    expect(stored.payload).toEqual(foreign.stored.payload);
    expect(stored.envelope.signatures[0]?.sig).not.toBe(foreign.stored.envelope.signatures[0]?.sig);
    expect(verifyEnvelope(stored.envelope, signer.publicKeyPem).ok).toBe(true);
    expect(loggedSignature(JSON.parse(stored.rekorBundle ?? '{}').Payload.body)).toBe(
      stored.envelope.signatures[0]?.sig,
    );
  });

  it('a look-up answered 500 fails the attempt as tlog (retryable) and creates nothing; the retry reuses', async () => {
    const first = await attestFresh();
    rekor.indexStatus = 500;
    await expect(attestFresh()).rejects.toMatchObject({ code: 'tlog', retryable: true });
    expect(rekor.created).toEqual({ count: 1, conflicts: 0 });
    rekor.indexStatus = undefined;
    const retried = await attestFresh();
    expect(rekor.created).toEqual({ count: 1, conflicts: 0 });
    expect(retried.out.transparencyUrl).toBe(first.out.transparencyUrl);
  });

  it('an instance without the search index (501) is uploaded to, once per attestation', async () => {
    rekor.indexStatus = 501;
    const { out } = await attestFresh();
    expect(rekor.requests).toEqual([LOOKUP, UPLOAD]);
    expect(rekor.created.count).toBe(1);
    expect(out.transparencyUrl).toBe(`${rekor.url}/api/v1/log/entries?logIndex=0`);
  });
});

describe('findLogged', () => {
  it('does not look up for keyless signing (no stable key: a fresh Fulcio key per signature)', async () => {
    const asked: string[] = [];
    const log = {
      uploadEnvelope: () => Promise.reject(new Error('not used')),
      uploadSignature: () => Promise.reject(new Error('not used')),
      findEnvelope: async () => {
        asked.push('findEnvelope');
        return undefined;
      },
    } satisfies TransparencyLog;
    const keyless: Signer = {
      ...keySigner(),
      keyId: '',
      publicKeyPem: '',
      sign: () => Promise.reject(new Error('x')),
    };
    const provenance = { payload: Buffer.from('{}') } as unknown as Provenance;
    expect(await findLogged(taskRunRef, log, provenance, keyless)).toBeUndefined();
    expect(asked).toEqual([]);
    expect(await findLogged(taskRunRef, log, provenance, keySigner())).toBeUndefined();
    expect(asked).toEqual(['findEnvelope']);
  });
});
