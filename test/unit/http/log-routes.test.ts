import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildApiServer } from '../../../src/http/index.ts';
import { CursorSealer, LogCheckpointer, SqliteIndex } from '../../../src/index/index.ts';
import {
  type DecisionEntry,
  entryLeafHash,
  noteKeyOf,
  openCheckpoint,
  verifyConsistency,
  verifyInclusion,
} from '../../../src/log/index.ts';
import type { Signer } from '../../../src/signing/index.ts';
import { fakeAuthorizer } from './fake-authorizer.ts';

const entry = (uid: string, namespace: string): DecisionEntry => ({
  v: 1,
  type: 'refused',
  run: { uid, kind: 'TaskRun', namespace, name: `build-${uid}` },
  reason: 'subject_not_found',
  at: '2026-12-05T00:00:00.000Z',
});

function ed25519Signer(): Signer {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return {
    keyId: 'SHA256:test',
    algorithm: 'ed25519',
    publicKeyPem,
    sign: async (data) => ({ signature: sign(null, data, privateKey), keyId: 'SHA256:test', publicKeyPem }),
  };
}

describe('decision log routes', () => {
  it('serve a signed checkpoint, proofs that verify against it, and another namespace entry only as hashes', async () => {
    const index = new SqliteIndex({ path: ':memory:' });
    const entries = [entry('a1', 'tenant-a'), entry('b1', 'tenant-b'), entry('a2', 'tenant-a')];
    await index.appendDecisions(entries);
    const signer = ed25519Signer();
    const checkpointer = new LogCheckpointer({
      log: index,
      origin: 'test.example/log',
      signer: () => signer,
      clock: () => 0,
    });
    const fake = fakeAuthorizer({
      tokens: { t: { user: 'alice', groups: [] } },
      grants: ['alice tenant-a TaskRun'],
    });
    const app = buildApiServer({
      index,
      checkpointer,
      publicKeys: () => [],
      authorizer: fake.authorizer,
      cursors: new CursorSealer({}),
    });
    const headers = { authorization: 'Bearer t' };
    expect((await app.inject({ url: '/api/v1/log/checkpoint', headers })).statusCode).toBe(404);
    expect((await app.inject({ url: '/api/v1/log/checkpoint' })).statusCode).toBe(401);
    const first = (await app.inject({ method: 'POST', url: '/api/v1/log/checkpoint', headers })).json();
    const key = noteKeyOf('test.example/log', signer.publicKeyPem);
    const c3 = openCheckpoint(first.note, [key]);
    if ('error' in c3) throw new Error(c3.error);
    expect(c3.size).toBe(3);

    const mine = (await app.inject({ url: '/api/v1/log/entries/2', headers })).json();
    expect(JSON.parse(mine.entry)).toEqual(entries[2]);
    expect(mine.checkpoint).toBe(first.note);
    const proof = mine.inclusionProof.map((p: string) => Buffer.from(p, 'base64'));
    expect(
      verifyInclusion(2, 3, entryLeafHash(entries[2] as DecisionEntry), proof, c3.rootHash),
    ).toBeUndefined();
    const theirs = (await app.inject({ url: '/api/v1/log/entries/1', headers })).json();
    expect(theirs.entry).toBeUndefined();
    expect(theirs.leafHash).toBe(entryLeafHash(entries[1] as DecisionEntry).toString('base64'));

    await index.appendDecisions([entry('a3', 'tenant-a'), entry('b2', 'tenant-b')]);
    const second = (await app.inject({ method: 'POST', url: '/api/v1/log/checkpoint', headers })).json();
    const c5 = openCheckpoint(second.note, [key]);
    if ('error' in c5) throw new Error(c5.error);
    const consistency = (await app.inject({ url: '/api/v1/log/consistency?from=3&to=5', headers })).json();
    const hashes = consistency.proof.map((p: string) => Buffer.from(p, 'base64'));
    expect(verifyConsistency(3, 5, c3.rootHash, c5.rootHash, hashes)).toBeUndefined();
    expect((await app.inject({ url: '/api/v1/log/consistency?from=3&to=9', headers })).statusCode).toBe(400);
    await app.close();
    await index.close();
  });
});

describe('an attestation answer', () => {
  it('carries its decision log entry and inclusion proof, which verify offline with the checkpoint', async () => {
    const { createHash } = await import('node:crypto');
    const { newAttestation } = await import('../index/attestation-fixtures.ts');
    const { checkLogInclusion } = await import('../../../src/verify/index.ts');
    const index = new SqliteIndex({ path: ':memory:' });
    const a = newAttestation({});
    const id = await index.addAttestation(a);
    const payloadDigest = `sha256:${createHash('sha256').update(Buffer.from(a.envelope.payload, 'base64')).digest('hex')}`;
    await index.appendDecisions([entry('x1', 'tenant-a')]);
    await index.appendDecisions([
      {
        v: 1,
        type: 'attested',
        run: { ...a.run },
        predicateType: a.predicateType,
        payloadDigest,
        subjects: a.subjects,
        keyIds: [a.keyId],
        stored: [],
        at: '2026-12-05T00:00:00.000Z',
      },
    ]);
    const signer = ed25519Signer();
    const checkpointer = new LogCheckpointer({
      log: index,
      origin: 'test.example/log',
      signer: () => signer,
      clock: () => 0,
    });
    const fake = fakeAuthorizer({
      tokens: { t: { user: 'alice', groups: [] } },
      grants: ['alice tenant-a TaskRun'],
    });
    const app = buildApiServer({
      index,
      checkpointer,
      publicKeys: () => [],
      authorizer: fake.authorizer,
      cursors: new CursorSealer({}),
    });
    const headers = { authorization: 'Bearer t' };
    expect((await app.inject({ url: `/api/v1/attestations/${id}`, headers })).json().log).toMatchObject({
      index: 1,
      treeSize: 2,
    });
    const { note } = (await app.inject({ method: 'POST', url: '/api/v1/log/checkpoint', headers })).json();
    const { log } = (await app.inject({ url: `/api/v1/attestations/${id}`, headers })).json();
    expect(log.checkpoint).toBe(note);
    const envelope = Buffer.from(
      (await app.inject({ url: `/api/v1/attestations/${id}/envelope`, headers })).body,
    );
    const checks = checkLogInclusion({
      envelope,
      proof: log,
      checkpointNote: note,
      publicKeyPem: signer.publicKeyPem,
    });
    expect(checks.map((c) => [c.name, c.ok])).toEqual([
      ['log checkpoint signature', true],
      ['log entry', true],
      ['log inclusion', true],
    ]);
    const other = checkLogInclusion({
      envelope: Buffer.from(JSON.stringify({ ...a.envelope, payload: Buffer.from('{}').toString('base64') })),
      proof: log,
      checkpointNote: note,
      publicKeyPem: signer.publicKeyPem,
    });
    expect(other.find((c) => c.name === 'log entry')?.ok).toBe(false);
    const tampered = checkLogInclusion({
      envelope,
      proof: { ...log, index: 0 },
      checkpointNote: note,
      publicKeyPem: signer.publicKeyPem,
    });
    expect(tampered.at(-1)).toMatchObject({ name: 'log inclusion', ok: false });
    await app.close();
    await index.close();
  });
});
