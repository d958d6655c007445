import { spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LogCheckpointer, logProofOf, SqliteIndex } from '../../../src/index/index.ts';
import { pae } from '../../../src/signing/index.ts';

// `provenance-observer verify --log-checkpoint` as users run it: a child process, files only.
const bin = join(resolve(import.meta.dirname, '../../..'), 'bin/provenance-observer.js');

describe('verify --envelope --log-checkpoint --log-proof', () => {
  it('passes for a logged envelope, and fails naming the check for another checkpoint or proof', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'verify-log-'));
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const payload = Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [] }));
    const type = 'application/vnd.in-toto+json';
    const envelope = {
      payloadType: type,
      payload: payload.toString('base64'),
      signatures: [{ keyid: '', sig: sign(null, pae(type, payload), privateKey).toString('base64') }],
    };
    const index = new SqliteIndex({ path: ':memory:' });
    const run = { uid: 'u1', kind: 'TaskRun', namespace: 'tenant-a', name: 'build-1' };
    const at = '2026-12-05T00:00:00.000Z';
    await index.appendDecisions([{ v: 1, type: 'refused', run: { ...run, uid: 'u0' }, reason: 'x', at }]);
    const payloadDigest = `sha256:${createHash('sha256').update(payload).digest('hex')}`;
    await index.appendDecisions([
      {
        v: 1,
        type: 'attested',
        run,
        predicateType: 'p',
        payloadDigest,
        subjects: [],
        keyIds: [],
        stored: [],
        at,
      },
    ]);
    await index.appendDecisions([{ v: 1, type: 'refused', run: { ...run, uid: 'u2' }, reason: 'x', at }]);
    const signer = {
      keyId: 'k',
      algorithm: 'ed25519' as const,
      publicKeyPem,
      sign: async (d: Uint8Array) => ({ signature: sign(null, d, privateKey), keyId: 'k', publicKeyPem }),
    };
    const checkpoint = await new LogCheckpointer({
      log: index,
      origin: 'verify.test/log',
      signer: () => signer,
      clock: () => 0,
    }).checkpoint();
    const entry = await index.findLogEntry(`attested:u1:${payloadDigest}`);
    if (!entry) throw new Error('entry not logged');
    const proof = await logProofOf(index, entry, true);
    await index.close();
    const files = {
      key: join(dir, 'pub.pem'),
      envelope: join(dir, 'att.json'),
      checkpoint: join(dir, 'checkpoint.note'),
      proof: join(dir, 'proof.json'),
    };
    writeFileSync(files.key, publicKeyPem);
    writeFileSync(files.envelope, JSON.stringify(envelope));
    writeFileSync(files.checkpoint, checkpoint.note);
    writeFileSync(files.proof, JSON.stringify({ log: proof }));
    const verify = () =>
      spawnSync(
        process.execPath,
        [
          bin,
          'verify',
          '--key',
          files.key,
          '--envelope',
          files.envelope,
          '--log-checkpoint',
          files.checkpoint,
          '--log-proof',
          files.proof,
        ],
        { encoding: 'utf8' },
      );
    const ok = verify();
    expect(ok.stdout).toContain('ok   log checkpoint signature: verify.test/log, size 3');
    expect(ok.stdout).toContain(`ok   log entry: attested ${payloadDigest}`);
    expect(ok.stdout).toContain('ok   log inclusion: entry 1 of 3');
    expect(ok.status).toBe(0);

    writeFileSync(files.proof, JSON.stringify({ ...proof, index: 2 }));
    const wrongIndex = verify();
    expect(wrongIndex.stdout).toMatch(
      /FAIL log inclusion: the proof (leads to another root|is longer than the tree is deep)/,
    );
    expect(wrongIndex.status).toBe(1);

    writeFileSync(files.proof, JSON.stringify(proof));
    writeFileSync(files.checkpoint, checkpoint.note.replace('\n3\n', '\n4\n'));
    const edited = verify();
    expect(edited.stdout).toContain(
      'FAIL log checkpoint signature: the signature of verify.test/log does not verify',
    );
    expect(edited.status).toBe(1);
  });
});
