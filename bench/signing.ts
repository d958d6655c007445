import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { type KeyAlgorithm, KeySigner, pae, signEnvelope } from '../src/signing/index.ts';

/**
 * Signing throughput per algorithm: whole envelopes per second (canonical serialisation of a
 * realistic SLSA v1 statement + PAE + signature + envelope JSON), against bare `crypto.sign` on the
 * same PAE bytes in the same run. The ratio is what our code costs on top of the signature.
 * Keys are generated per run (throwaway). Reports only; asserts nothing.
 */
export interface SigningBenchRow {
  algorithm: KeyAlgorithm;
  envelopesPerSecond: number;
  bareSignsPerSecond: number;
  /** envelopes/s ÷ bare signs/s (1.0 = no overhead) */
  ratio: number;
}

const ALGORITHMS: { algorithm: KeyAlgorithm; digest: string | null; key: () => KeyObject }[] = [
  { algorithm: 'ecdsa-p256-sha256', digest: 'sha256', key: () => ec('P-256') },
  { algorithm: 'ecdsa-p384-sha384', digest: 'sha384', key: () => ec('P-384') },
  { algorithm: 'ecdsa-p521-sha512', digest: 'sha512', key: () => ec('P-521') },
  { algorithm: 'ed25519', digest: null, key: () => generateKeyPairSync('ed25519').privateKey },
  {
    algorithm: 'rsa-pkcs1v15-sha256',
    digest: 'sha256',
    key: () => generateKeyPairSync('rsa', { modulusLength: 3072 }).privateKey,
  },
];

function ec(namedCurve: string): KeyObject {
  return generateKeyPairSync('ec', { namedCurve }).privateKey;
}

/** A statement shaped like Chains' slsa/v1.0 TaskRun output (~4 KiB of JSON). */
function realisticStatement(i: number): unknown {
  const steps = Array.from({ length: 6 }, (_, s) => ({
    name: `step-${s}`,
    image: `registry.example/tools/step-${s}@sha256:${'b'.repeat(64)}`,
    script: 'set -e\nmake build\nmake test\n',
    env: [{ name: 'HOME', value: '/tekton/home' }],
  }));
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'registry.example/team/app', digest: { sha256: i.toString(16).padStart(64, '0') } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      buildDefinition: {
        buildType: 'https://tekton.dev/chains/v2/slsa',
        externalParameters: {
          runSpec: { taskRef: { name: 'buildah', kind: 'Task' }, params: [{ name: 'IMAGE', value: 'x' }] },
        },
        internalParameters: { tekton_pipelines_feature_flags: { EnableAPIFields: 'beta' } },
        resolvedDependencies: steps.map((s) => ({
          uri: `oci://${s.image.split('@')[0]}`,
          digest: { sha256: 'b'.repeat(64) },
        })),
      },
      runDetails: {
        builder: { id: 'https://tekton.dev/chains/v2' },
        metadata: {
          invocationId: `uid-${i}`,
          startedOn: '2024-06-01T10:00:00Z',
          finishedOn: '2024-06-01T10:05:00Z',
        },
        byproducts: [
          { name: 'taskRunResults/IMAGE_DIGEST', mediaType: 'application/json', content: 'ImFiYyI=' },
        ],
      },
      steps,
    },
  };
}

function rate(durationMs: number, work: (i: number) => void): number {
  const start = performance.now();
  let i = 0;
  while (performance.now() - start < durationMs) work(i++);
  return i / ((performance.now() - start) / 1000);
}

export async function runSigningBench(options: { durationMs?: number } = {}): Promise<SigningBenchRow[]> {
  const durationMs = options.durationMs ?? 1000;
  const type = 'application/vnd.in-toto+json';
  const sample = pae(type, Buffer.from(JSON.stringify(realisticStatement(0))));
  const rows: SigningBenchRow[] = [];
  for (const { algorithm, digest, key } of ALGORITHMS) {
    const privateKey = key();
    const signer = new KeySigner({ privateKey, algorithm });
    rate(100, () => sign(digest, sample, privateKey)); // warm-up
    const bareSignsPerSecond = rate(durationMs, () => sign(digest, sample, privateKey));
    let done = 0;
    const start = performance.now();
    while (performance.now() - start < durationMs) {
      await signEnvelope(Buffer.from(JSON.stringify(realisticStatement(done))), type, signer);
      done++;
    }
    const envelopesPerSecond = done / ((performance.now() - start) / 1000);
    rows.push({
      algorithm,
      envelopesPerSecond,
      bareSignsPerSecond,
      ratio: envelopesPerSecond / bareSignsPerSecond,
    });
  }
  return rows;
}

export function formatSigningTable(rows: SigningBenchRow[]): string {
  const header = ['algorithm', 'envelopes/s', 'bare crypto.sign/s', 'ratio'];
  const body = rows.map((r) => [
    r.algorithm,
    r.envelopesPerSecond.toFixed(0),
    r.bareSignsPerSecond.toFixed(0),
    r.ratio.toFixed(2),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => (row[c] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
