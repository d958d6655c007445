import { describe, expect, it } from 'vitest';
import { runResignJob } from '../../../../src/cli/resign/index.ts';
import { SqliteIndex } from '../../../../src/index/index.ts';
import type { RunKey } from '../../../../src/tekton/run-ref.ts';
import { doneTaskRun, FakeAttestor, fakeSigner, okOutcome } from '../../fakes.ts';

const newKey = { ...fakeSigner, keyId: 'SHA256:new' };
const V1 = 'https://slsa.dev/provenance/v1';

/** Runs completed a minute apart from 10:00, attested by the old key in the index. */
async function cluster(index: SqliteIndex, names: string[]) {
  const objects = names.map((name, i) => {
    const run = doneTaskRun(name, `u-${name}`);
    (run.status as { completionTime: string }).completionTime = `2026-11-26T10:0${i}:00Z`;
    return run;
  });
  for (const o of objects) {
    const uid = o.metadata.uid as string;
    const run = { kind: 'TaskRun' as const, namespace: 'tenant-a', name: o.metadata.name as string };
    await index.putRunRecord({ uid, run, status: 'attested', attempts: 0, updatedAt: new Date(0) });
    const outcome = okOutcome(uid);
    await index.addAttestation({
      run: { ...run, uid },
      predicateType: V1,
      subjects: [],
      envelope: outcome.provenance!.artifact.envelope,
      keyId: 'SHA256:old',
      storage: [],
      createdAt: new Date(0),
    });
  }
  const patched: RunKey[] = [];
  const runApi = {
    list: async () => ({ items: objects, resourceVersion: '1' }),
    get: async () => undefined,
    patchAnnotations: async (key: RunKey) => void patched.push(key),
  };
  return { runApi, patched };
}

/** An attestor whose every outcome is signed by the new key, with a distinct envelope per run. */
function newKeyAttestor() {
  const attestor = new FakeAttestor();
  const attest = attestor.attest.bind(attestor);
  attestor.attest = async (run, ...rest) => {
    const o = okOutcome(run.uid);
    const envelope = {
      ...o.provenance!.artifact.envelope,
      signatures: [{ keyid: 'SHA256:new', sig: run.uid }],
    };
    attestor.outcomes.push({
      ...o,
      provenance: {
        ...o.provenance!,
        artifact: { ...o.provenance!.artifact, envelope, keyId: 'SHA256:new' },
      },
    });
    return attest(run, ...rest);
  };
  return attestor;
}

describe('resign job', () => {
  it('re-signs the runs in the time range, saves its cursor, continues after --limit, and is idempotent', async () => {
    const index = new SqliteIndex({ path: ':memory:' });
    const { runApi } = await cluster(index, ['a', 'b', 'c', 'd']);
    const attestor = newKeyAttestor();
    const lines: string[] = [];
    const options = {
      selection: {
        namespaces: ['tenant-a'],
        since: new Date('2026-11-26T10:01:00Z'),
        until: new Date('2026-11-26T10:04:00Z'),
        kinds: ['TaskRun' as const],
      },
      signer: newKey,
      predicateTypes: { TaskRun: V1 },
      concurrency: 1,
      runApi,
      index,
      attestor,
      progress: (l: string) => void lines.push(l),
    };
    // a (10:00) is before the range: b, c, d are selected
    const first = await runResignJob({ ...options, limit: 2 });
    expect(first).toMatchObject({ resigned: 2, cursor: 'TaskRun/tenant-a/c' });
    expect(attestor.calls.map((c) => c.uid)).toEqual(['u-b', 'u-c']);
    const rest = await runResignJob(options);
    expect(rest).toMatchObject({ resigned: 3, cursor: 'TaskRun/tenant-a/d' });
    expect(attestor.calls.map((c) => c.uid)).toEqual(['u-b', 'u-c', 'u-d']);
    expect(lines.some((l) => l.includes('continues after TaskRun/tenant-a/c'))).toBe(true);
    const again = await runResignJob({ ...options, restart: true });
    expect(again).toMatchObject({ resigned: 0, current: 3, failed: 0 });
    expect(attestor.calls).toHaveLength(3);
    const b = await index.findByRun({ namespace: 'tenant-a', kind: 'TaskRun', name: 'b' });
    expect(b.map((x) => x.keyId).sort()).toEqual(['SHA256:new', 'SHA256:old']);
  });

  it('a format change makes every run due again; --dry-run only counts', async () => {
    const index = new SqliteIndex({ path: ':memory:' });
    const { runApi, patched } = await cluster(index, ['a', 'b']);
    const attestor = newKeyAttestor();
    const base = {
      selection: { namespaces: [], kinds: ['TaskRun' as const] },
      signer: { ...fakeSigner, keyId: 'SHA256:old' },
      concurrency: 4,
      runApi,
      index,
      attestor,
      progress: () => undefined,
    };
    expect(await runResignJob({ ...base, predicateTypes: { TaskRun: V1 } })).toMatchObject({
      resigned: 0,
      current: 2,
    });
    const dry = await runResignJob({
      ...base,
      predicateTypes: { TaskRun: 'https://slsa.dev/provenance/v0.2' },
      dryRun: true,
    });
    expect(dry).toMatchObject({ resigned: 2 });
    expect(attestor.calls).toHaveLength(0);
    expect(patched).toHaveLength(0);
  });
});
