import type { Logger } from '../observability/index.ts';
import { describeRun, type RunKey } from '../tekton/index.ts';
import type { RunApi } from './run-api.ts';
import { type HeldObject, LEGACY_OBSERVER_FINALIZERS, OBSERVER_FINALIZER, type RunHold } from './run-hold.ts';

export interface FinalizerRunHoldOptions {
  runApi: Pick<RunApi, 'get' | 'setFinalizers'>;
  logger: Logger;
  /** the finalizer name; default OBSERVER_FINALIZER */
  finalizer?: string;
  /** older names of it, removed wherever found; default LEGACY_OBSERVER_FINALIZERS */
  legacy?: readonly string[];
  /** tries when the run keeps changing under us (409); default 5 */
  maxTries?: number;
}

/**
 * RunHold with a finalizer set by a merge patch of the whole list guarded by resourceVersion: on a
 * conflict (someone changed the run, perhaps its finalizers) the run is re-read and the change
 * recomputed from its current list, so tenant finalizers are never lost. A run deleted meanwhile
 * (404) needs nothing more.
 */
export class FinalizerRunHold implements RunHold {
  readonly #o: Required<FinalizerRunHoldOptions>;

  constructor(options: FinalizerRunHoldOptions) {
    this.#o = { finalizer: OBSERVER_FINALIZER, legacy: LEGACY_OBSERVER_FINALIZERS, maxTries: 5, ...options };
  }

  async hold(key: RunKey, object: HeldObject): Promise<void> {
    // a run already being deleted cannot gain a finalizer, and an unfinished one is never attested
    if (object.metadata?.deletionTimestamp) return this.release(key, object);
    await this.#change(key, object, 'adding', (list) => {
      const kept = this.#withoutLegacy(list);
      if (kept.length === list.length && list.includes(this.#o.finalizer)) return undefined;
      return kept.includes(this.#o.finalizer) ? kept : [...kept, this.#o.finalizer];
    });
  }

  async release(key: RunKey, object: HeldObject): Promise<void> {
    await this.#change(key, object, 'removing', (list) => {
      const kept = this.#withoutLegacy(list).filter((f) => f !== this.#o.finalizer);
      return kept.length === list.length ? undefined : kept;
    });
  }

  #withoutLegacy(list: readonly string[]): string[] {
    return list.filter((f) => !this.#o.legacy.includes(f));
  }

  /** Applies `next` (undefined: nothing to change) to the run's list, re-reading on conflict. */
  async #change(
    key: RunKey,
    first: HeldObject,
    verb: string,
    next: (list: readonly string[]) => string[] | undefined,
  ): Promise<void> {
    const log = this.#o.logger.child({ kind: key.kind, namespace: key.namespace, name: key.name });
    let object: HeldObject | undefined = first;
    try {
      for (let tries = 0; object && tries < this.#o.maxTries; tries++) {
        const list = next(object.metadata?.finalizers ?? []);
        const rv = object.metadata?.resourceVersion;
        if (!list) return;
        if (!rv) break;
        const result = await this.#o.runApi.setFinalizers(key, list, rv);
        if (result !== 'conflict') return;
        object = await this.#o.runApi.get(key);
      }
      if (object)
        log.warn(
          `${verb} finalizer ${this.#o.finalizer}: ${describeRun(key)} kept changing; will try again when next seen`,
        );
    } catch (err) {
      log.warn(
        { err: (err as Error).message },
        `${verb} finalizer ${this.#o.finalizer} failed; will try again when next seen`,
      );
    }
  }
}
