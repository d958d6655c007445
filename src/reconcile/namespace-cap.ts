import { ObserverError } from '../errors.ts';
import type { IndexRetention } from '../index/index.ts';

/** The reason code of a run refused because its namespace's stored envelopes reached the cap. */
export const NAMESPACE_CAP_REASON = 'namespace_payload_cap';

/**
 * The error a run gets when its namespace already holds `capBytes` or more of stored envelopes in
 * the index (`index.namespace-payload-cap-bytes`; 0 = no cap), else undefined. Not retryable: the
 * namespace stays full until retention prunes it or the cap is raised (then removing the run's
 * `failed` mark asks for a fresh try). The text names the namespace and the cap, nothing else.
 */
export async function namespaceCapError(
  index: Pick<IndexRetention, 'payloadBytes'>,
  namespace: string,
  capBytes: number,
): Promise<ObserverError | undefined> {
  if (capBytes <= 0) return undefined;
  const used = await index.payloadBytes(namespace);
  if (used < capBytes) return undefined;
  const text = `${NAMESPACE_CAP_REASON}: namespace ${namespace} holds ${used} bytes of attestations in the observer index, at or over its cap of ${capBytes} (index.namespace-payload-cap-bytes)`;
  return new ObserverError(text, {
    code: 'index',
    retryable: false,
    reason: NAMESPACE_CAP_REASON,
    publicMessage: text,
  });
}
