import { expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/index.ts';
import { SqliteIndex } from '../../../src/index/index.ts';
import { createLogger, createMetrics } from '../../../src/observability/index.ts';
import { registryError } from '../../../src/oci/index.ts';
import { Reconciler } from '../../../src/reconcile/index.ts';
import { doneTaskRun, FakeAttestor, FakeEvents, FakeRunApi, failedOutcome, fakeSigner } from '../fakes.ts';

const MARKER = 'BODY-MARKER-91c2';

it('Events and the index carry the reason code and host of a registry failure, never what the registry sent', async () => {
  const runs = new FakeRunApi();
  const index = new SqliteIndex({ path: ':memory:' });
  const attestor = new FakeAttestor();
  const events = new FakeEvents();
  const lines: string[] = [];
  const reconciler = new Reconciler({
    config: parseConfig({ 'attestation.max-attempts': '1' }),
    runApi: runs,
    index,
    attestor,
    events,
    metrics: createMetrics(),
    logger: createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(line) } }),
    signer: () => fakeSigner,
  });
  runs.put('TaskRun', doneTaskRun('build-1', 'u1'));
  const outcome = failedOutcome('u1');
  const error = registryError(
    'registry_denied',
    { operation: 'GET manifest v1', target: 'evil.test/app' },
    { detail: `HTTP 403 (DENIED: ${MARKER})`, retryable: false },
  );
  outcome.results = [{ ...outcome.results[0], result: { backend: 'oci', ok: false, error } }];
  attestor.outcomes.push(outcome);
  await reconciler.reconcile({ kind: 'TaskRun', namespace: 'tenant-a', name: 'build-1' }, 'r1');
  const failed = events.events.find((e) => e.reason === 'AttestationFailed')?.message ?? '';
  expect(failed).toContain('registry evil.test: registry_denied');
  expect(failed).not.toContain(MARKER);
  expect((await index.getRunRecord('u1'))?.lastError).not.toContain(MARKER);
  expect((await index.getRunRecord('u1'))?.lastError).toContain('registry_denied');
  expect(lines.join('')).toContain(MARKER); // the detail goes to the observer's log
});
