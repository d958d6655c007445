import { type BrokenSeal, type IndexSeal, sealSecretsFrom } from '../../index/index.ts';
import type { EventRecorder } from '../../kube/index.ts';
import type { Logger, Metrics } from '../../observability/index.ts';

/**
 * Keys the index seal from the signing Secret's data at every change (index/seal/seal-secrets.ts):
 * `index-seal.key`, else the active private key's entries. Without either, the process's own key
 * keeps sealing, and the log says what that costs.
 */
export function sealKeysFromSecret(
  seal: IndexSeal,
  where: string,
  logger: Logger,
): (data: Record<string, Uint8Array>) => void {
  return (data) => {
    const { secrets, problem } = sealSecretsFrom(data, where);
    if (problem) logger.error({ secret: where }, problem);
    if (secrets) {
      seal.setSecrets(secrets);
      logger.info({ secret: where, sealKeyId: seal.keyId }, 'index seal keyed from the signing Secret');
    } else
      logger.warn(
        { secret: where },
        `Secret ${where} holds no index-seal.key and no private key: index rows are sealed with this process's own key, so a run deleted before it was attested cannot be attested from its copy by another replica or after a restart`,
      );
  };
}

/**
 * What a row that failed its seal raises: a metric (the ProvenanceObserverIndexSealBroken alert),
 * an error log, and a Warning Event `IndexSealBroken` on the run the row names. The row is never
 * used: the index does not return it.
 */
export function reportBrokenSeals(
  metrics: Metrics,
  logger: Logger,
  events: EventRecorder,
): (broken: BrokenSeal) => void {
  return (broken) => {
    metrics.indexSealFailures.inc({ table: broken.table, reason: broken.reason });
    const what = `index row ${broken.table} uid ${broken.uid} failed its seal (${broken.reason}): not used, nothing is signed from it`;
    logger.error({ ...broken.run, uid: broken.uid, table: broken.table, reason: broken.reason }, what);
    if (broken.run)
      void events.record({
        run: { ...broken.run, uid: broken.uid },
        type: 'Warning',
        reason: 'IndexSealBroken',
        message: `${what}; the index was written by someone other than the observer, or under a seal key since rotated out`,
      });
  };
}
