import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type BrokenSeal,
  IndexSeal,
  type RunCapture,
  SEAL_KEY_ENTRY,
  SqliteIndex,
  sealSecretsFrom,
} from '../../../src/index/index.ts';
import type { PodEvidence } from '../../../src/policy/index.ts';

const key = { kind: 'TaskRun' as const, namespace: 'tenant-a', name: 'build-1' };
const evidence: PodEvidence = { found: false, podName: '', takenAt: '2026-11-26T10:00:00.000Z' };

function capture(uid: string, parent?: string): RunCapture {
  const owners = parent ? { ownerReferences: [{ kind: 'PipelineRun', uid: parent }] } : {};
  return {
    uid,
    run: key,
    object: { kind: 'TaskRun', metadata: { ...key, uid, ...owners }, status: { podName: 'p' } },
    capturedAt: new Date(5_000),
    evidence,
  };
}

describe('IndexSeal', () => {
  it('verifies its own seals; a changed field, table or key does not', () => {
    const seal = new IndexSeal({ secret: randomBytes(32) });
    const fields = ['u1', 'TaskRun', 'ns', 'n', '{"a":1}', 5];
    const s = seal.seal('run_captures', fields);
    expect(seal.check('run_captures', fields, s)).toBeUndefined();
    expect(seal.check('run_captures', ['u1', 'TaskRun', 'ns', 'n', '{"a":2}', 5], s)).toBe('mismatch');
    // a field cannot shift into its neighbour
    expect(seal.check('run_captures', ['u1', 'TaskRun', 'nsn', '', '{"a":1}', 5], s)).toBe('mismatch');
    expect(seal.check('run_evidence', fields, s)).toBe('mismatch');
    expect(seal.check('run_captures', fields, null)).toBe('unsealed');
    expect(new IndexSeal({ secret: randomBytes(32) }).check('run_captures', fields, s)).toBe('unknown_key');
  });

  it('after a rotation seals with the new key and still verifies the previous one', () => {
    const old = randomBytes(32);
    const seal = new IndexSeal({ secret: old });
    const before = seal.seal('run_evidence', ['u', '{}', 1]);
    seal.setSecrets({ current: randomBytes(32) });
    expect(seal.check('run_evidence', ['u', '{}', 1], before)).toBeUndefined();
    // a new process told of the previous key through the Secret verifies it too
    const next = new IndexSeal();
    next.setSecrets({ current: randomBytes(32), previous: [old] });
    expect(next.check('run_evidence', ['u', '{}', 1], before)).toBeUndefined();
    expect(next.seal('run_evidence', ['u', '{}', 1])).not.toBe(before);
  });

  it("takes index-seal.key from the Secret, else the active private key's entries; nothing without either", () => {
    const explicit = sealSecretsFrom({ [SEAL_KEY_ENTRY]: randomBytes(32) }, 'ns/s');
    expect(explicit.secrets?.current).toHaveLength(32);
    const derived = sealSecretsFrom(
      { 'cosign.key': Buffer.from('k'), 'cosign.password': Buffer.from('p') },
      'ns/s',
    );
    expect(derived.secrets).toBeDefined();
    expect(sealSecretsFrom({ 'cosign.pub': Buffer.from('x') }, 'ns/s').secrets).toBeUndefined();
    const short = sealSecretsFrom({ [SEAL_KEY_ENTRY]: Buffer.from('short') }, 'ns/s');
    expect(short.problem).toMatch(/index-seal.key: shorter than 32 bytes/);
    expect(short.problem).not.toContain('short"');
  });
});

describe('sealed rows in the SQLite index', () => {
  let dir: string;
  let path: string;
  let broken: BrokenSeal[];
  let index: SqliteIndex;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'index-seal-'));
    path = join(dir, 'index.db');
    broken = [];
    const seal = new IndexSeal({ secret: randomBytes(32) });
    seal.onBroken = (b) => broken.push(b);
    index = new SqliteIndex({ path, seal });
  });
  afterEach(async () => {
    await index.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const raw = (sql: string, ...params: (string | number)[]) => {
    const db = new DatabaseSync(path);
    db.prepare(sql).run(...params);
    db.close();
  };

  it('returns what it sealed', async () => {
    await index.captureRuns([capture('u1', 'pr-1')]);
    expect((await index.findCapturedRun(key))?.uid).toBe('u1');
    expect(await index.findRunEvidence('u1', key)).toEqual(evidence);
    expect((await index.firstChildSighting(key, 'pr-1'))?.uid).toBe('u1');
    expect(broken).toEqual([]);
  });

  it('a capture edited or inserted behind its back is not returned, and is reported', async () => {
    await index.captureRuns([capture('u1')]);
    raw(`UPDATE run_captures SET object = replace(object, '"podName":"p"', '"podName":"q"')`);
    expect(await index.findCapturedRun(key)).toBeUndefined();
    expect(broken).toEqual([{ table: 'run_captures', uid: 'u1', run: key, reason: 'mismatch' }]);
    raw(
      `INSERT INTO run_captures (uid, kind, namespace, name, object, captured_at) VALUES ('forged', 'TaskRun', ?, ?, '{}', 9000)`,
      key.namespace,
      key.name,
    );
    expect(await index.findCapturedRun(key)).toBeUndefined();
    expect(broken.map((b) => `${b.uid}:${b.reason}`)).toContain('forged:unsealed');
  });

  it('a forged copy does not hide a sound one behind it', async () => {
    await index.captureRuns([capture('u1')]);
    raw(
      `INSERT INTO run_captures (uid, kind, namespace, name, object, captured_at, seal) VALUES ('forged', 'TaskRun', ?, ?, '{}', 9000, 's1.0000000000000000.AAAA')`,
      key.namespace,
      key.name,
    );
    expect((await index.findCapturedRun(key))?.uid).toBe('u1');
    expect(broken).toEqual([{ table: 'run_captures', uid: 'forged', run: key, reason: 'unknown_key' }]);
  });

  it('edited evidence and a forged earlier sighting are not used', async () => {
    await index.captureRuns([capture('u1', 'pr-1')]);
    raw(`UPDATE run_evidence SET evidence = replace(evidence, '"found":false', '"found":true')`);
    raw(
      `INSERT INTO run_sightings (namespace, name, parent_uid, uid, first_seen_at) VALUES (?, ?, 'pr-1', 'impostor', 1)`,
      key.namespace,
      key.name,
    );
    expect(await index.findRunEvidence('u1', key)).toBeUndefined();
    expect(await index.firstChildSighting(key, 'pr-1')).toEqual({ uid: 'u1', at: new Date(5_000) });
    expect(broken.map((b) => `${b.table}:${b.uid}:${b.reason}`).sort()).toEqual([
      'run_evidence:u1:mismatch',
      'run_sightings:impostor:unsealed',
    ]);
  });
});
