/**
 * Step and sidecar images → `{uri: "oci://<image>", digest: {<alg>: <hex>}}` dependencies.
 * `imageID` loses a `docker-pullable://` prefix and must be `<image>@<alg>:<hex>` with a valid digest
 * (parseDigest). Chains fails the whole payload on one malformed imageID (e.g. a TaskRun whose pod
 * never ran); here that step is skipped with `step_image_invalid` and the rest is attested.
 * The image part is kept as written (no Docker Hub normalisation), as Chains does.
 */
import type { SidecarState, StepState } from '../tekton/index.ts';
import type { DigestedArtifact } from './artifact-hints.ts';
import { clip, parseDigest } from './digest.ts';
import type { Extraction, SkippedInput } from './skipped.ts';

export const OCI_SCHEME = 'oci://';

export function containerImages(
  states: readonly (StepState | SidecarState)[] | undefined,
  source: string,
  field: 'steps' | 'sidecars',
): Extraction<DigestedArtifact> {
  const items: DigestedArtifact[] = [];
  const skipped: SkippedInput[] = [];
  for (const [i, s] of (states ?? []).entries()) {
    const where = `${source} status.${field}[${s.name ?? i}].imageID`;
    const parsed = parseImageId(s.imageID ?? '');
    if (typeof parsed === 'string')
      skipped.push({ source: where, code: 'step_image_invalid', reason: parsed });
    else items.push(parsed);
  }
  return { items, skipped };
}

/** `<image>@<alg>:<hex>` → artifact, or the reason it is not one. */
export function parseImageId(imageID: string): DigestedArtifact | string {
  const ref = imageID.startsWith('docker-pullable://') ? imageID.slice('docker-pullable://'.length) : imageID;
  const parts = ref.split('@');
  if (parts.length !== 2 || parts[0] === '') return `imageID "${clip(imageID)}" is not <image>@<alg>:<hex>`;
  const d = parseDigest(parts[1]);
  if (!d.ok) return `imageID "${clip(imageID)}": ${d.reason}`;
  return { uri: `${OCI_SCHEME}${parts[0]}`, alg: d.alg, hex: d.hex };
}

/** Chains' step `environment.image`: `oci://` + imageID without `docker-pullable://`, unparsed. */
export function stepImageUri(imageID: string | undefined): string {
  const id = imageID ?? '';
  return OCI_SCHEME + (id.startsWith('docker-pullable://') ? id.slice('docker-pullable://'.length) : id);
}
