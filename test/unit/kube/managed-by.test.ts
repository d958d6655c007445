import { describe, expect, it } from 'vitest';
import { managedByAccepted } from '../../../src/kube/index.ts';

describe('managedByAccepted', () => {
  it("accepts runs Tekton manages, and configured extra managers, like Chains' filter", () => {
    expect(managedByAccepted({}, [])).toBe(true);
    expect(managedByAccepted({ spec: { managedBy: '' } }, [])).toBe(true);
    expect(managedByAccepted({ spec: { managedBy: 'tekton.dev/pipeline' } }, [])).toBe(true);
    expect(managedByAccepted({ spec: { managedBy: 'kueue.x-k8s.io/multikueue' } }, [])).toBe(false);
    expect(
      managedByAccepted({ spec: { managedBy: 'kueue.x-k8s.io/multikueue' } }, ['kueue.x-k8s.io/multikueue']),
    ).toBe(true);
  });
});
