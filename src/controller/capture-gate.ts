import type { EventRecorder } from '../kube/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import { type DiskShare, NAMESPACE_SHARE_REASON, shareDeferral } from '../reconcile/index.ts';
import type { RunObservation } from '../tekton/index.ts';

export interface CaptureGateOptions {
  space: Pick<DiskShare, 'check'>;
  events: EventRecorder;
  metrics: Pick<Metrics, 'diskShareDeferred'>;
  logger: Logger;
}

/**
 * Whether a finished run's copy may go into the index now: not while the index volume is under its
 * free-space floor and the run's namespace is over its fair share (disk-share.ts). A run not
 * captured is reported (Event `CaptureDeferred` on the run, metric, log) and still queued: its
 * attempt is deferred the same way and tried again when space frees; a held run stays held.
 */
export class CaptureGate {
  readonly #o: CaptureGateOptions;

  constructor(options: CaptureGateOptions) {
    this.#o = options;
  }

  async admits(o: RunObservation): Promise<boolean> {
    const bytes = Buffer.byteLength(JSON.stringify(o.object ?? {}));
    const verdict = await this.#o.space.check(o.key.namespace, bytes);
    if (verdict.kind !== 'over-share') return true;
    const text = shareDeferral(o.key, verdict, 'capture');
    this.#o.metrics.diskShareDeferred.inc({ what: 'capture' });
    this.#o.logger.warn(
      { reason: NAMESPACE_SHARE_REASON, kind: o.key.kind, namespace: o.key.namespace, name: o.key.name },
      text,
    );
    await this.#o.events.record({
      run: { ...o.key, uid: o.uid },
      type: 'Warning',
      reason: 'CaptureDeferred',
      message: text,
    });
    return false;
  }
}
