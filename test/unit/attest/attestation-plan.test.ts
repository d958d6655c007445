import { describe, expect, it } from 'vitest';
import { planAttestation, storageFor } from '../../../src/attest/attestation-plan.ts';
import { parseConfig } from '../../../src/config/index.ts';

describe('planAttestation', () => {
  it.each([
    // Chains' defaults: in-toto (SLSA v0.2) on the run's annotations, image signatures to OCI
    [
      'TaskRun',
      {},
      {
        provenance: { format: 'slsa/v0.2', storage: ['tekton'] },
        imageSignatures: { storage: ['oci'] },
      },
    ],
    ['PipelineRun', {}, { provenance: { format: 'slsa/v0.2', storage: ['tekton'] } }],
    [
      'PipelineRun',
      { 'artifacts.pipelinerun.format': 'slsa/v1.0', 'artifacts.pipelinerun.storage': 'tekton,oci' },
      { provenance: { format: 'slsa/v1.0', storage: ['oci', 'tekton'] } },
    ],
    ['TaskRun', { 'artifacts.taskrun.signer': 'none' }, { imageSignatures: { storage: ['oci'] } }],
    ['TaskRun', { 'artifacts.taskrun.storage': '', 'artifacts.oci.storage': '' }, {}],
    [
      'PipelineRun',
      { 'artifacts.pipelinerun.format': 'in-toto', 'artifacts.pipelinerun.storage': 'tekton' },
      { provenance: { format: 'slsa/v0.2', storage: ['tekton'] } },
    ],
  ] as const)('%s with %o', (kind, config, plan) => {
    expect(planAttestation(parseConfig(config), kind)).toEqual(plan);
  });

  it('names the backends per artifact type, none when the type is off', () => {
    const plan = planAttestation(
      parseConfig({ 'artifacts.oci.storage': 'tekton', 'artifacts.pipelinerun.storage': 'oci,tekton' }),
      'PipelineRun',
    );
    expect(storageFor(plan, 'provenance')).toEqual(['oci', 'tekton']);
    expect(storageFor(plan, 'image-signature')).toEqual([]);
  });
});
