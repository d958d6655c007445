import { ObserverError } from '../errors.ts';
import type { ChildRun } from '../formats/index.ts';
import { describeRun, type RunKey, type RunView } from '../tekton/index.ts';
import { NAMESPACE_SHARE_REASON, type SpaceVerdict } from './space-verdict.ts';

/** The reason code of a run refused because its namespace's stored bytes reached the fixed cap. */
export const NAMESPACE_CAP_REASON = 'namespace_payload_cap';

/** How soon a run deferred for its namespace's share is tried again: one minute. */
export const SHARE_RETRY_MS = 60_000;
/** How soon a run waiting for attempts in flight under a fixed cap is tried again: one second. */
export const CAP_WAIT_MS = 1000;

/**
 * The refusal of a run whose namespace's stored bytes (envelopes and captured copies) reached the
 * fixed cap (`index.namespace-payload-cap-bytes`). Not retryable: the namespace stays full until
 * retention prunes it or the cap is raised (then removing the run's `failed` mark asks for a fresh
 * try). The text names the namespace and the cap, nothing else.
 */
export function namespaceCapError(
  namespace: string,
  verdict: Extract<SpaceVerdict, { kind: 'over-cap' }>,
): ObserverError {
  const text = `${NAMESPACE_CAP_REASON}: namespace ${namespace} holds ${verdict.usedBytes} bytes of attestations and captured runs in the observer index, at or over its cap of ${verdict.capBytes} (index.namespace-payload-cap-bytes)`;
  return new ObserverError(text, {
    code: 'index',
    retryable: false,
    reason: NAMESPACE_CAP_REASON,
    publicMessage: text,
  });
}

/**
 * The Event text of work deferred because the index volume is low and the namespace is over its
 * fair share: nothing is signed or marked; it is tried again when space frees.
 */
export function shareDeferral(
  run: RunKey,
  verdict: Extract<SpaceVerdict, { kind: 'over-share' }>,
  what: 'attestation' | 'capture',
): string {
  return `${NAMESPACE_SHARE_REASON}: ${what} of ${describeRun(run)} deferred: namespace ${run.namespace} holds ${verdict.usedBytes} bytes in the observer index, over its fair share of ${verdict.shareBytes}, while the index volume has ${verdict.freeBytes} bytes free, under its floor of ${verdict.floorBytes} (index.free-space-floor-percent); tried again when space frees`;
}

/**
 * An upper estimate of the index bytes one attempt adds: the provenance envelope, whose payload
 * is built from the run and its children (so at most twice their JSON plus 64 KiB of fixed
 * fields, a generous bound), base64-encoded, plus 8 KiB of signature and framing.
 */
export function envelopeBoundBytes(view: RunView, children: readonly ChildRun[]): number {
  let source = Buffer.byteLength(JSON.stringify(view.object));
  for (const child of children) source += Buffer.byteLength(JSON.stringify(child));
  return Math.ceil((2 * source + 64 * 1024) / 3) * 4 + 8 * 1024;
}
