import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { replicaName } from '../../src/config/index.ts';
import { KubeConnection, KubeEventRecorder } from '../../src/kube/index.ts';
import { createLogger } from '../../src/observability/index.ts';
import { kubeAccessFor, kubeConfigFor } from '../env/index.ts';

// Each replica names itself in the Events it records (reportingInstance = its pod name, from the
// downward API's POD_NAME), so `kubectl get events` tells which replica attested a run.
describe('Events name the replica that recorded them', () => {
  const connection = new KubeConnection({ access: kubeAccessFor('observer') });
  afterAll(async () => connection.close());

  it('records reportingInstance from POD_NAME, a different one per replica', async () => {
    const run = {
      kind: 'TaskRun' as const,
      namespace: 'tenant-a',
      name: `instance-${Date.now()}`,
      uid: crypto.randomUUID(),
    };
    const logger = createLogger({ level: 'silent' });
    for (const pod of ['provenance-observer-6b7c9-aaaaa', 'provenance-observer-6b7c9-bbbbb']) {
      const recorder = new KubeEventRecorder({
        connection,
        logger,
        instance: replicaName({ POD_NAME: pod }),
      });
      await recorder.record({ run, type: 'Normal', reason: 'Attested', message: `by ${pod}` });
    }
    const events = await kubeConfigFor('admin')
      .makeApiClient(CoreV1Api)
      .listNamespacedEvent({ namespace: 'tenant-a', fieldSelector: `involvedObject.uid=${run.uid}` });
    expect(events.items.map((e) => [e.message, e.reportingInstance, e.reportingComponent]).sort()).toEqual([
      ['by provenance-observer-6b7c9-aaaaa', 'provenance-observer-6b7c9-aaaaa', 'provenance-observer'],
      ['by provenance-observer-6b7c9-bbbbb', 'provenance-observer-6b7c9-bbbbb', 'provenance-observer'],
    ]);
  });

  it('falls back to the host name without POD_NAME (a pod host name is its name)', () => {
    expect(replicaName({})).toMatch(/.+/);
    expect(replicaName({ POD_NAME: 'p-1' })).toBe('p-1');
  });
});
