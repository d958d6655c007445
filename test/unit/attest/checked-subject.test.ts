import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { signImage, signProvenance } from '../../../src/attest/sign-artifacts.ts';
import { storeArtifact } from '../../../src/attest/store-artifact.ts';
import { buildProvenance, SealedProvenance } from '../../../src/formats/index.ts';
import { type OciSubjectRef, parseImageSubject } from '../../../src/model/index.ts';
import { type CheckedSubject, SubjectGate, UNSET_SUBJECT_POLICY } from '../../../src/policy/index.ts';
import type { SignedArtifact, StorageBackend } from '../../../src/storage/index.ts';
import type { TaskRun } from '../../../src/tekton/index.ts';
import { taskRunRef as run, fakeSigner as signer, taskRun } from '../fakes.ts';

// The signer's entry points accept only what the subject gate checked. The `@ts-expect-error`
// lines are checked by `tsc` (npm run lint): each would compile, and so fail the lint, if an
// unchecked subject could be handed to the key.

const dA = `sha256:${'a'.repeat(64)}`;
const object = taskRun([
  { name: 'IMAGE_URL', value: 'reg.io/tenant-b/app' },
  { name: 'IMAGE_DIGEST', value: dA },
]) as TaskRun;
const built = buildProvenance({ kind: 'TaskRun', run: object }, { format: 'slsa/v1.0' } as never);

describe('an unchecked subject cannot reach the key', () => {
  it('type level: only CheckedSubjects and SealedProvenances are accepted', () => {
    const typeOnly = () => {
      // @ts-expect-error a plain image reference is not a CheckedImage
      void signImage(run, { repository: 'reg.io/tenant-b/app', digest: dA }, signer);
      const parsed = parseImageSubject('reg.io/tenant-b/app', dA) as OciSubjectRef & { ok: true };
      // @ts-expect-error a parsed but unchecked subject is not a CheckedImage
      void signImage(run, parsed, signer);
      // @ts-expect-error a built statement (its subjects as the run wrote them) is not sealed
      void signProvenance(run, built, signer);
      // @ts-expect-error an object literal cannot pose as a SealedProvenance (private field)
      void signProvenance(run, { ...built, subjects: [], images: [] }, signer);
      // @ts-expect-error SealedProvenance.of takes only CheckedSubjects
      SealedProvenance.of(built, [{ ...parsed, rule: 'forged' }]);
      const forged: CheckedSubject[] = [
        // @ts-expect-error the brand cannot be written: no module exports its symbol
        { kind: 'oci', registry: 'reg.io', path: 'x', repository: 'reg.io/x', digest: dA, rule: 'r' },
      ];
      return forged;
    };
    expect(typeof typeOnly).toBe('function');
  });

  it('type level: the storing code takes only artifacts whose images are CheckedImages', () => {
    const typeOnly = (backend: StorageBackend, telemetry: Parameters<typeof storeArtifact>[3]) => {
      const image = { repository: 'reg.io/tenant-b/app', digest: dA };
      const bytes = new Uint8Array();
      const envelope = { payloadType: 'x', payload: '', signatures: [] };
      const sig: SignedArtifact = {
        type: 'image-signature',
        key: 'k',
        // @ts-expect-error an image signature for a plain image reference is not a SignedArtifact
        image,
        payload: bytes,
        signature: bytes,
      };
      void backend.store({
        run,
        artifact: {
          type: 'provenance',
          key: 'k',
          predicateType: 'p',
          payload: bytes,
          envelope,
          envelopeBytes: bytes,
          // @ts-expect-error an attestation cannot be attached to images that skipped the gate
          images: [image],
        },
      });
      const parsed = parseImageSubject('reg.io/tenant-b/app', dA) as OciSubjectRef & { ok: true };
      // @ts-expect-error nor to parsed but unchecked ones, through any store entry point
      void storeArtifact(backend, run, { ...sig, image: parsed }, telemetry);
      return sig;
    };
    expect(typeof typeOnly).toBe('function');
  });

  it('in src/, only attest/sign-artifacts.ts calls the signing primitives (whose callers take checked types)', () => {
    const src = join(import.meta.dirname, '../../../src');
    const files = (readdirSync(src, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'));
    const callers = files.filter((f) => {
      if (f.startsWith('signing/')) return false;
      return /\b(signEnvelope|signEnvelopeBy|signRaw)\(/.test(readFileSync(join(src, f), 'utf8'));
    });
    expect(callers.map((f) => relative('.', f))).toEqual(['attest/sign-artifacts.ts']);
  });

  it('sealing replaces whatever subjects the built statement carried with the checked ones', async () => {
    expect(built.statement.subject.map((s) => s.name)).toEqual(['reg.io/tenant-b/app']);
    const gate = await new SubjectGate({ policy: UNSET_SUBJECT_POLICY }).check(run, [
      { source: 'test', name: 'docker.io/busybox:1', digest: dA },
    ]);
    const sealed = SealedProvenance.of(built, gate.checked);
    expect(sealed.statement.subject).toEqual([
      { name: 'index.docker.io/library/busybox', digest: { sha256: 'a'.repeat(64) } },
    ]);
    expect(JSON.parse(Buffer.from(sealed.payload).toString()).subject).toEqual(sealed.statement.subject);
    expect(SealedProvenance.of(built, []).statement.subject).toEqual([]);
  });
});
