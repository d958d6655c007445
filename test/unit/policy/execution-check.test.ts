import { describe, expect, it } from 'vitest';
import {
  checkEvidence,
  checkExecution,
  type PodView,
  parsePodEvidence,
  podEvidence,
} from '../../../src/policy/index.ts';
import type { TaskRun } from '../../../src/tekton/index.ts';

const A = `quay.io/b/build@sha256:${'a'.repeat(64)}`;
const B = `quay.io/b/other@sha256:${'b'.repeat(64)}`;
const S = `quay.io/b/sidecar@sha256:${'c'.repeat(64)}`;
const run: TaskRun = {
  metadata: { name: 'build-1', uid: 'run-uid' },
  status: {
    podName: 'build-1-pod',
    steps: [{ name: 'build', container: 'step-build', imageID: A }],
    sidecars: [{ name: 'db', container: 'sidecar-db', imageID: S }],
  },
};
const pod = (containers: { name: string; imageID: string }[], owner = 'run-uid'): PodView => ({
  metadata: { name: 'build-1-pod', ownerReferences: [{ kind: 'TaskRun', uid: owner }] },
  status: { containerStatuses: containers },
});

describe('checkExecution', () => {
  it('matches when every step and sidecar image is what the Pod ran (kubelet spelling aside)', () => {
    const p = pod([
      { name: 'step-build', imageID: `docker-pullable://quay.io/b/build@sha256:${'a'.repeat(64)}` },
      { name: 'sidecar-db', imageID: S },
    ]);
    expect(checkExecution(run, p)).toEqual({ result: 'match', podName: 'build-1-pod', containers: 2 });
  });
  it('reports a step image the Pod did not run, and containers only one side has', () => {
    const p = pod([
      { name: 'step-build', imageID: B },
      { name: 'step-hidden', imageID: A },
    ]);
    expect(checkExecution(run, p)).toEqual({
      result: 'mismatch',
      podName: 'build-1-pod',
      differences: [
        { container: 'sidecar-db', reported: S },
        { container: 'step-build', reported: A, ran: B },
        { container: 'step-hidden', ran: A },
      ],
    });
  });
  it('a missing Pod is pod_not_found, not a mismatch; a foreign Pod is not_owned', () => {
    expect(checkExecution(run, undefined).result).toBe('pod_not_found');
    expect(checkExecution({ ...run, status: { ...run.status, podName: undefined } }, undefined).result).toBe(
      'pod_not_found',
    );
    expect(checkExecution(run, pod([{ name: 'step-build', imageID: A }], 'someone-else')).result).toBe(
      'not_owned',
    );
  });
  it('ignores Tekton init containers, and an empty imageID never matches', () => {
    const r = { ...run, status: { ...run.status, sidecars: [] } } as TaskRun;
    expect(
      checkExecution(
        r,
        pod([
          { name: 'step-build', imageID: A },
          { name: 'prepare', imageID: B },
        ]),
      ).result,
    ).toBe('match');
    expect(checkExecution(r, pod([{ name: 'step-build', imageID: '' }])).result).toBe('mismatch');
  });
  it('any ephemeral container is a mismatch, from its status or only its spec', () => {
    const p: PodView = {
      ...pod([
        { name: 'step-build', imageID: A },
        { name: 'sidecar-db', imageID: S },
      ]),
      spec: { ephemeralContainers: [{ name: 'debugger', image: 'busybox' }] },
    };
    expect(checkExecution(run, p)).toMatchObject({
      result: 'mismatch',
      differences: [{ container: 'ephemeral:debugger', ran: 'busybox' }],
    });
  });
  it('judges the captured evidence, whatever the run or the cluster says now', () => {
    const taken = podEvidence(
      'build-1-pod',
      pod([
        { name: 'step-build', imageID: A },
        { name: 'sidecar-db', imageID: S },
      ]),
      new Date(0),
    );
    const edited: TaskRun = { ...run, status: { ...run.status, podName: '' } };
    expect(checkEvidence(edited, taken, 'captured')).toMatchObject({ result: 'match', evidence: 'captured' });
    const none = podEvidence('', undefined, new Date(0));
    expect(checkEvidence(run, none, 'captured')).toMatchObject({ result: 'pod_not_found' });
    expect(parsePodEvidence(JSON.parse(JSON.stringify(taken)))).toEqual(taken);
    expect(parsePodEvidence({ found: true, podName: 'x' })).toBeUndefined();
  });
});
