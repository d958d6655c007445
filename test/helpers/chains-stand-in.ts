import { createPublicKey, type KeyObject, sign } from 'node:crypto';
import { INTOTO_PAYLOAD_TYPE } from '../../src/intoto/index.ts';
import {
  ANNOTATION_CERTIFICATE,
  ANNOTATION_CHAIN,
  ANNOTATION_SIGNATURE,
  DSSE_LAYER,
  digestTag,
  RegistryClient,
  SIMPLESIGNING_LAYER,
} from '../../src/oci/index.ts';
import { keyIdOf, pae } from '../../src/signing/index.ts';

/**
 * Tekton Chains as it signs a run with `tekton` storage (tektoncd/chains pkg/chains/signing.go,
 * storage/tekton, signing/wrap.go; ../shared/reference/tekton-chains-behaviour.md §4.5, §5.1, §6.5):
 * the statement serialised the way protojson does it (top-level keys in proto order `_type,
 * subject, predicateType, predicate`, every predicate object's keys sorted, and one of protojson's
 * random spaces after a comma, so the bytes are never our canonical JSON), wrapped in a DSSE
 * envelope whose keyid is the SSH SHA-256 fingerprint, and stored as the annotations
 * `payload-<key>`, `signature-<key>` (the whole envelope), `cert-<key>` and `chain-<key>` (base64
 * of "" without a certificate), plus `signed: "true"`. `key` is Chains' signing key.
 */
export function chainsAnnotations(
  run: { kind: 'TaskRun' | 'PipelineRun'; uid: string },
  statement: { _type: string; subject: unknown[]; predicateType: string; predicate: unknown },
  key: KeyObject,
): Record<string, string> {
  const payload = Buffer.from(protojsonLike(statement), 'utf8');
  const sig = sign(hashOf(key), pae(INTOTO_PAYLOAD_TYPE, payload), key).toString('base64');
  const envelope = JSON.stringify({
    payloadType: INTOTO_PAYLOAD_TYPE,
    payload: payload.toString('base64'),
    signatures: [{ keyid: keyIdOf(createPublicKey(key)), sig }],
  });
  const short = `${run.kind.toLowerCase()}-${run.uid}`;
  return {
    'chains.tekton.dev/signed': 'true',
    [`chains.tekton.dev/payload-${short}`]: payload.toString('base64'),
    [`chains.tekton.dev/signature-${short}`]: Buffer.from(envelope).toString('base64'),
    [`chains.tekton.dev/cert-${short}`]: '',
    [`chains.tekton.dev/chain-${short}`]: '',
  };
}

/** protojson's layout of an in-toto Statement: proto field order on top, sorted keys below, a stray space. */
export function protojsonLike(statement: {
  _type: string;
  subject: unknown[];
  predicateType: string;
  predicate: unknown;
}): string {
  const body = [
    `"_type":${JSON.stringify(statement._type)}`,
    `"subject":${JSON.stringify(statement.subject)}`,
    `"predicateType":${JSON.stringify(statement.predicateType)}`,
    `"predicate":${JSON.stringify(sorted(statement.predicate))}`,
  ];
  // protojson inserts a space after some commas (golang/protobuf internal/detrand)
  return `{${body[0]}, ${body.slice(1).join(',')}}`;
}

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sorted((value as Record<string, unknown>)[k])]),
    );
  return value;
}

/** Chains' hash per key type (cosign LoadDefaultSignerVerifier: P-256 → SHA-256; Ed25519 → none). */
function hashOf(key: KeyObject): string | null {
  return key.asymmetricKeyType === 'ed25519' ? null : 'sha256';
}

/** An image Chains attaches `.att`/`.sig` to: `registry/repo` (no tag) and its manifest digest. */
export interface ChainsImage {
  repository: string;
  digest: string;
}

/**
 * Chains' `oci` storage (tektoncd/chains pkg/chains/storage/oci, cosign's ociremote; reference
 * §5.2): the DSSE envelope, byte for byte what the `signature-<key>` annotation holds, appended as
 * a layer of `<repo>:sha256-<hex>.att` on every image subject (media type
 * `application/vnd.dsse.envelope.v1+json`, annotations signature "" and empty certificate/chain,
 * no predicateType annotation); for a TaskRun's built images also the simplesigning payload on
 * `.sig`, signed with Chains' key. A layer of identical digest is not appended twice.
 */
export async function chainsPushToRegistry(
  registry: string,
  annotations: Record<string, string>,
  images: { att: ChainsImage[]; sig: ChainsImage[] },
  key: KeyObject,
): Promise<void> {
  const short = Object.keys(annotations)
    .find((k) => k.startsWith('chains.tekton.dev/signature-'))
    ?.slice('chains.tekton.dev/signature-'.length);
  const envelope = Buffer.from(annotations[`chains.tekton.dev/signature-${short}`] ?? '', 'base64');
  for (const image of images.att)
    await appendLayer(registry, image, '.att', envelope, DSSE_LAYER, { [ANNOTATION_SIGNATURE]: '' });
  for (const image of images.sig) {
    const payload = Buffer.from(
      JSON.stringify({
        critical: {
          identity: { 'docker-reference': image.repository },
          image: { 'docker-manifest-digest': image.digest },
          type: 'cosign container image signature',
        },
        optional: null,
      }),
    );
    const signature = sign(hashOf(key), payload, key).toString('base64');
    await appendLayer(registry, image, '.sig', payload, SIMPLESIGNING_LAYER, {
      [ANNOTATION_SIGNATURE]: signature,
    });
  }
}

async function appendLayer(
  registry: string,
  image: ChainsImage,
  suffix: '.att' | '.sig',
  blob: Uint8Array,
  mediaType: string,
  annotations: Record<string, string>,
): Promise<void> {
  const repository = image.repository.slice(registry.length + 1);
  const client = new RegistryClient({ registry, insecure: true });
  const tag = digestTag(image.digest, suffix);
  const existing = await client.getManifest(repository, tag);
  const layers: { mediaType: string; size: number; digest: string; annotations?: Record<string, string> }[] =
    existing ? JSON.parse(Buffer.from(existing.bytes).toString('utf8')).layers : [];
  const digest = await client.uploadBlob(repository, blob);
  if (layers.some((l) => l.digest === digest)) return;
  layers.push({
    mediaType,
    size: blob.length,
    digest,
    annotations: { ...annotations, [ANNOTATION_CERTIFICATE]: '', [ANNOTATION_CHAIN]: '' },
  });
  const config = Buffer.from(
    JSON.stringify({
      architecture: '',
      created: '0001-01-01T00:00:00Z',
      history: [{ created: '0001-01-01T00:00:00Z' }],
      os: '',
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
      config: {},
    }),
  );
  const configDigest = await client.uploadBlob(repository, config);
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      size: config.length,
      digest: configDigest,
    },
    layers,
  };
  await client.putManifest(
    repository,
    tag,
    Buffer.from(JSON.stringify(manifest)),
    'application/vnd.oci.image.manifest.v1+json',
  );
}

/**
 * Chains' statement `template` (one of its test data's) as Chains would write it for `run`: the
 * run's namespace and start/completion times where Chains copies them (v0.2 `invocation.environment`
 * and `metadata`, v1.0 `runDetails.metadata` with the uid as invocationID) and `subject`.
 */
export function chainsStatementFor(
  template: { _type: string; subject: unknown[]; predicateType: string; predicate: unknown },
  run: { uid: string; namespace: string; startTime: string; completionTime: string },
  subject: unknown[],
) {
  const predicate = structuredClone(template.predicate) as {
    metadata?: Record<string, unknown>;
    invocation?: { environment?: Record<string, unknown> };
    runDetails?: { metadata?: Record<string, unknown> };
  };
  if (predicate.runDetails)
    predicate.runDetails.metadata = {
      ...predicate.runDetails.metadata,
      invocationID: run.uid,
      startedOn: run.startTime,
      finishedOn: run.completionTime,
    };
  else {
    predicate.metadata = {
      ...predicate.metadata,
      buildStartedOn: run.startTime,
      buildFinishedOn: run.completionTime,
    };
    predicate.invocation = {
      ...predicate.invocation,
      environment: { ...predicate.invocation?.environment, namespace: run.namespace },
    };
  }
  return { ...template, subject, predicate };
}
