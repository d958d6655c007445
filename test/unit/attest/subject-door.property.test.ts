import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AttestationChecks, Attestor } from '../../../src/attest/index.ts';
import { parseConfig } from '../../../src/config/index.ts';
import { parseSubject } from '../../../src/model/index.ts';
import { createMetrics } from '../../../src/observability/index.ts';
import { type ManifestHead, parseSubjectPolicy, SubjectExistenceCheck } from '../../../src/policy/index.ts';
import { loadX509Pem } from '../../../src/signing/index.ts';
import type { BackendName, StorageBackend } from '../../../src/storage/index.ts';
import type { TektonRun } from '../../../src/tekton/index.ts';
import { FakeBackend, taskRunRef as run, taskRun } from '../fakes.ts';

// Property: whatever a run writes, through every hint kind and in any spelling, every subject of
// the statement the observer signs (and every image it signs) is canonical, allowed to the run's
// namespace by the subject policy, and exists in its registry. Registry answers are a fake set of
// existing (repository, digest) pairs; the rest (grammar, policy, gate, formats, signing) is real.

const hex = (c: string, n = 64) => c.repeat(n);
const dA = `sha256:${hex('a')}`;
const dB = `sha256:${hex('b')}`;
const d512 = `sha512:${hex('5', 128)}`;
const EXISTING = new Set([
  `reg.io/tenant-a/app@${dA}`,
  `reg.io/tenant-b/app@${dB}`,
  `reg.io/tenant-a/app@${d512}`,
]);
const NS = '$' + '{namespace}';
const POLICY = `rules: [{name: own, namespaces: [tenant-a], repositories: ["reg.io/${NS}/**"], uris: ["pkg:npm/${NS}/*"]}]`;

const HINT_KINDS = [
  'IMAGE_PAIR',
  'IMAGES',
  'ARTIFACT_PAIR',
  'ARTIFACT_OUTPUTS',
  'ARTIFACT_OUTPUTS_FLAGLESS',
] as const;
type HintKind = (typeof HINT_KINDS)[number];

const registry = fc.constantFrom(
  'reg.io/',
  'REG.io/',
  'reg.io:443/',
  'evil.io/',
  'docker.io/',
  '',
  'user@reg.io/',
);
const path = fc.constantFrom(
  'tenant-a/app',
  'tenant-b/app',
  'tenant-a/../tenant-b/app',
  'tenant-a//app',
  'tenant-a/./app',
  'Tenant-a/app',
  'tenant-a/app ',
  ' tenant-a/app',
  'tenant-a/app\n',
);
const tag = fc.constantFrom('', ':v1', ':latest');
const ociName = fc.tuple(registry, path, tag).map(([r, p, t]) => `${r}${p}${t}`);
const uriName = fc.constantFrom(
  'pkg:npm/tenant-a/x',
  'pkg:npm/tenant-b/x',
  'pkg:npm/tenant-a/../tenant-b/x',
  'https://evil.io/x',
  'app.tar.gz',
);
const digest = fc.constantFrom(
  dA,
  dB,
  d512,
  `sha256:${hex('c')}`,
  `sha256:${hex('A')}`,
  ` ${dA}`,
  `${dA} `,
  `sha512:${hex('a')}`,
  `sha1:${hex('a', 40)}`,
);
const kind = fc.constantFrom(...HINT_KINDS);
/** a subject that exists (tenant B's among them): half the claims, so every run tries a real target */
const existing = fc.constantFrom(
  ...[...EXISTING].map((e) => ({ name: e.split('@')[0] as string, digest: e.split('@')[1] as string })),
);
const claim = fc.oneof(
  fc.record({ kind, name: fc.oneof(ociName, uriName), digest }),
  fc.record({ kind, target: existing }).map(({ kind, target }) => ({ kind, ...target })),
);

/** Results that claim each subject through its hint kind (each claim its own marker). */
function results(claims: { kind: HintKind; name: string; digest: string }[]) {
  const out: { name: string; value: unknown }[] = [];
  const images: string[] = [];
  claims.forEach((c, i) => {
    const m = i === 0 ? '' : `P${i}_`;
    switch (c.kind) {
      case 'IMAGE_PAIR':
        out.push({ name: `${m}IMAGE_URL`, value: c.name }, { name: `${m}IMAGE_DIGEST`, value: c.digest });
        break;
      case 'IMAGES':
        images.push(`${c.name}@${c.digest}`);
        break;
      case 'ARTIFACT_PAIR':
        out.push(
          { name: `${m}ARTIFACT_URI`, value: c.name },
          { name: `${m}ARTIFACT_DIGEST`, value: c.digest },
        );
        break;
      case 'ARTIFACT_OUTPUTS':
      case 'ARTIFACT_OUTPUTS_FLAGLESS':
        out.push({
          name: `${m}ARTIFACT_OUTPUTS`,
          value: {
            uri: c.name,
            digest: c.digest,
            ...(c.kind === 'ARTIFACT_OUTPUTS' ? { isBuildArtifact: 'true' } : {}),
          },
        });
    }
  });
  if (images.length) out.push({ name: 'IMAGES', value: images.join(',') });
  // the run's legitimate subject, always there
  out.push(
    { name: 'LEGIT_IMAGE_URL', value: 'reg.io/tenant-a/app:v1' },
    { name: 'LEGIT_IMAGE_DIGEST', value: dA },
  );
  return out;
}

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signer = loadX509Pem(
  new TextEncoder().encode(privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()),
  { namespace: 'ns', name: 's', entry: 'x509.pem' },
);

function attestor(format: string, heads: string[]) {
  const client = (registry: string): ManifestHead => ({
    headManifest: async (p, d) => {
      heads.push(`${registry}/${p}@${d}`);
      return EXISTING.has(`${registry}/${p}@${d}`) ? 200 : 404;
    },
    headBlob: async () => 404,
  });
  const tekton = new FakeBackend('tekton');
  const a = new Attestor({
    config: parseConfig({
      'artifacts.taskrun.format': format,
      'artifacts.taskrun.storage': 'tekton',
      'artifacts.oci.storage': 'tekton',
    }),
    backends: new Map<BackendName, StorageBackend>([['tekton', tekton]]),
    metrics: createMetrics(),
    checks: new AttestationChecks({
      policy: parseSubjectPolicy(POLICY),
      executionCheck: 'off',
      existence: new SubjectExistenceCheck({ clientFor: async (_r, image) => client(image.registry) }),
    }),
  });
  return { a, tekton };
}

/** canonical, allowed for tenant-a, and (OCI) existing */
function expectAcceptable(name: string, digestSet: Record<string, string>): void {
  const [[alg, h]] = Object.entries(digestSet) as [[string, string]];
  const parsed = parseSubject(name, `${alg}:${h}`);
  expect(parsed.ok, `${name} parses`).toBe(true);
  if (!parsed.ok) return;
  if (parsed.kind === 'oci') {
    expect(parsed.repository, 'canonical').toBe(name);
    expect(name.startsWith('reg.io/tenant-a/'), `${name} allowed`).toBe(true);
    expect(EXISTING.has(`${name}@${alg}:${h}`), `${name}@${alg}:${h} exists`).toBe(true);
  } else expect(name).toMatch(/^pkg:npm\/tenant-a\/[^/]+$/);
}

describe('every path to a signature goes through the subject gate (property)', () => {
  it.each(['slsa/v1.0', 'slsa/v0.2'])(
    '%s: every signed subject is canonical, allowed and existed',
    async (format) => {
      await fc.assert(
        fc.asyncProperty(fc.array(claim, { minLength: 1, maxLength: 6 }), async (claims) => {
          const heads: string[] = [];
          const { a, tekton } = attestor(format, heads);
          const object = taskRun(results(claims) as { name: string; value: string }[]) as TektonRun;
          const out = await a.attest(run, object, [], signer);
          expect(out.ok).toBe(true);
          const signedArtifacts = tekton.requests.map((r) => r.artifact);
          const prov = signedArtifacts.find((x) => x.type === 'provenance');
          if (prov?.type !== 'provenance') throw new Error('no provenance signed');
          const signed = JSON.parse(Buffer.from(prov.envelope.payload, 'base64').toString()) as {
            subject: { name: string; digest: Record<string, string> }[];
          };
          for (const s of signed.subject) expectAcceptable(s.name, s.digest);
          expect(signed.subject).toContainEqual({
            name: 'reg.io/tenant-a/app',
            digest: { sha256: hex('a') },
          });
          for (const x of signedArtifacts)
            if (x.type === 'image-signature')
              expectAcceptable(x.image.repository, { sha256: x.image.digest.slice(7) });
          for (const h of heads) expect(parseSubject(h.split('@')[0] ?? '', dA)).toMatchObject({ ok: true });
        }),
        { numRuns: 150 },
      );
    },
  );
});
