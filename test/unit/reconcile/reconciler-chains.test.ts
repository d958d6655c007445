import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { ChainsAdopter, type ChainsTrust } from '../../../src/attest/index.ts';
import { parseConfig } from '../../../src/config/index.ts';
import { SqliteIndex } from '../../../src/index/index.ts';
import { createMetrics, type Metrics } from '../../../src/observability/index.ts';
import { Reconciler } from '../../../src/reconcile/index.ts';
import { keyIdOf } from '../../../src/signing/index.ts';
import type { RunKey } from '../../../src/tekton/run-ref.ts';
import { chainsAnnotations, chainsStatementFor } from '../../helpers/chains-stand-in.ts';
import {
  doneTaskRun,
  FakeAttestor,
  FakeEvents,
  FakeRunApi,
  fakeSigner,
  okOutcome,
  silentLogger,
} from '../fakes.ts';

const statement = JSON.parse(
  readFileSync(
    join(
      import.meta.dirname,
      '../../fixtures/tekton-chains/pkg/chains/formats/slsa/testdata/pipeline-v1/taskrun1.slsa-v0.2.json',
    ),
    'utf8',
  ),
);
const key: RunKey = { kind: 'TaskRun', namespace: 'tenant-a', name: 'build-1' };
const chains = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const chainsPem = chains.publicKey.export({ format: 'pem', type: 'spki' }).toString();

/** A FakeAttestor that adopts with a real ChainsAdopter (annotations only, no registry). */
class AdoptingAttestor extends FakeAttestor {
  trust: ChainsTrust | undefined = { publicKeysPem: [chainsPem] };
  readonly #adopter = new ChainsAdopter({ trust: async () => this.trust });
  adoptChains(...args: Parameters<ChainsAdopter['adopt']>) {
    return this.#adopter.adopt(...args);
  }
}

describe("Reconciler: runs Tekton Chains signed, with Chains' key configured", () => {
  let runs: FakeRunApi;
  let index: SqliteIndex;
  let attestor: AdoptingAttestor;
  let events: FakeEvents;
  let metrics: Metrics;
  let reconciler: Reconciler;

  beforeEach(() => {
    runs = new FakeRunApi();
    index = new SqliteIndex({ path: ':memory:' });
    attestor = new AdoptingAttestor();
    events = new FakeEvents();
    metrics = createMetrics();
    reconciler = new Reconciler({
      config: parseConfig({ 'observer.success-events': 'true' }),
      runApi: runs,
      index,
      attestor,
      events,
      metrics,
      logger: silentLogger(),
      signer: () => fakeSigner,
    });
  });

  const counter = async (name: string) =>
    (await metrics.registry.getSingleMetric(name)?.get())?.values.reduce((a, v) => a + v.value, 0) ?? 0;
  // Chains' statement for the run doneTaskRun makes (tenant-a, completed 2026-11-26T10:00:00Z)
  const boundTo = (uid: string) =>
    chainsStatementFor(
      statement,
      {
        uid,
        namespace: 'tenant-a',
        startTime: '2026-11-26T09:59:00Z',
        completionTime: '2026-11-26T10:00:00Z',
      },
      statement.subject,
    );
  const signedByChains = (uid: string) =>
    chainsAnnotations({ kind: 'TaskRun', uid }, boundTo(uid), chains.privateKey);

  it("adopts: recorded with origin chains and Chains' key, nothing signed, no mismatch", async () => {
    runs.put('TaskRun', doneTaskRun('build-1', 'u1', signedByChains('u1')));
    await reconciler.reconcile(key, 'r1');
    expect(attestor.calls).toHaveLength(0);
    expect((await index.getRunRecord('u1'))?.status).toBe('attested');
    const [summary] = await index.findByRun(key);
    expect(summary).toMatchObject({ origin: 'chains', keyId: keyIdOf(chains.publicKey) });
    expect(summary?.subjects.map((s) => s.digest)).toEqual(
      statement.subject.map((s: { digest: { sha256: string } }) => `sha256:${s.digest.sha256}`),
    );
    expect(events.reasons()).toEqual(['Adopted']);
    expect(await counter('provenance_observer_tamper_mismatches_total')).toBe(0);
    expect(await counter('provenance_observer_chains_adopted_total')).toBe(1);
    await reconciler.reconcile(key, 'r2');
    expect(attestor.calls).toHaveLength(0);
  });

  it('an edited Chains annotation is still tamper: attested by us and reported', async () => {
    const annotations = signedByChains('u1');
    const payloadKey = 'chains.tekton.dev/payload-taskrun-u1';
    const edited = { ...boundTo('u1'), subject: [{ name: 'evil/app', digest: { sha256: 'f'.repeat(64) } }] };
    annotations[payloadKey] = Buffer.from(JSON.stringify(edited)).toString('base64');
    runs.put('TaskRun', doneTaskRun('build-1', 'u1', annotations));
    attestor.outcomes.push(okOutcome('u1'));
    await reconciler.reconcile(key, 'r1');
    expect(attestor.calls).toHaveLength(1);
    expect(events.reasons()).toEqual(['AnnotationMismatch', 'Attested']);
    expect((await index.findByRun(key))[0]?.origin).toBe('observer');
  });

  it('a valid Chains envelope copied from another run is tamper, not adopted', async () => {
    const other = chainsAnnotations(
      { kind: 'TaskRun', uid: 'u0' },
      {
        ...boundTo('u0'),
        predicate: { ...boundTo('u0').predicate, metadata: { buildFinishedOn: '2026-11-25T08:00:00Z' } },
      },
      chains.privateKey,
    );
    const copied = Object.fromEntries(Object.entries(other).map(([k, v]) => [k.replace('-u0', '-u1'), v]));
    runs.put('TaskRun', doneTaskRun('build-1', 'u1', copied));
    attestor.outcomes.push(okOutcome('u1'));
    await reconciler.reconcile(key, 'r1');
    expect(attestor.calls).toHaveLength(1);
    expect(events.reasons()).toEqual(['AnnotationMismatch', 'Attested']);
  });

  it('side by side until the cut-over: an unsigned run is left to Chains, then its signature adopted', async () => {
    const sideBySide = new Reconciler({
      config: parseConfig({
        'observer.success-events': 'true',
        'adoption.chains-public-key-files': '/etc/chains/cosign.pub',
        'adoption.cut-over': '2026-11-26T12:00:00Z',
      }),
      runApi: runs,
      index,
      attestor,
      events,
      metrics,
      logger: silentLogger(),
      signer: () => fakeSigner,
      clock: () => Date.parse('2026-11-26T10:00:05Z'),
    });
    runs.put('TaskRun', doneTaskRun('build-1', 'u1'));
    expect(await sideBySide.reconcile(key, 'r1')).toEqual({ requeueAfterMs: 10_000 });
    expect(attestor.calls).toHaveLength(0);
    expect(await index.getRunRecord('u1')).toBeUndefined();
    runs.put('TaskRun', doneTaskRun('build-1', 'u1', signedByChains('u1'))); // Chains signed it
    await sideBySide.reconcile(key, 'r2');
    expect(attestor.calls).toHaveLength(0);
    expect((await index.findByRun(key))[0]?.origin).toBe('chains');
    expect(events.reasons()).toEqual(['Adopted']);
  });

  it('without Chains keys: as before adoption (attested by us, mismatch reported)', async () => {
    attestor.trust = undefined;
    runs.put('TaskRun', doneTaskRun('build-1', 'u1', signedByChains('u1')));
    attestor.outcomes.push(okOutcome('u1'));
    await reconciler.reconcile(key, 'r1');
    expect(attestor.calls).toHaveLength(1);
    expect(events.reasons()).toEqual(['AnnotationMismatch', 'Attested']);
  });

  it('after the cut-over: attested by us, and no alarm when Chains signed it', async () => {
    attestor.trust = { publicKeysPem: [chainsPem], cutOver: new Date('2026-11-26T09:00:00Z') };
    runs.put('TaskRun', doneTaskRun('build-1', 'u1', signedByChains('u1'))); // completed 10:00
    attestor.outcomes.push(okOutcome('u1'));
    await reconciler.reconcile(key, 'r1');
    expect(attestor.calls).toHaveLength(1);
    expect(events.reasons()).toEqual(['Attested']);
    expect(await counter('provenance_observer_tamper_mismatches_total')).toBe(0);
  });
});
