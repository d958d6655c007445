import { createHash } from 'node:crypto';
import { BoundedCache } from '../cache/index.ts';
import type { AttemptContext } from '../model/index.ts';
import type { Logger } from '../observability/index.ts';
import { CoreApi } from './client/core-api.ts';
import { KubeApiError } from './client/kube-api-error.ts';
import type { KubeConnection } from './client/kube-connection.ts';
import type { EventRecorder, RunEvent } from './event-recorder.ts';

/** Kubernetes caps an Event message at 1 KiB in practice (kubectl truncates); keep them short. */
const MAX_MESSAGE = 1024;
/** Repeat counts remembered per Event name (the RBAC grants create/patch, not get). */
const MAX_REMEMBERED = 2048;

/**
 * Records core/v1 Events on the run. The Event name is derived from the run, reason and message,
 * so a repeated event bumps `count` on one object instead of creating many: create, and on
 * AlreadyExists patch count and lastTimestamp (RBAC: events create, patch — nothing else).
 */
export class KubeEventRecorder implements EventRecorder {
  readonly #api: CoreApi;
  readonly #logger: Logger;
  readonly #clock: () => Date;
  readonly #instance: string;
  readonly #counts = new BoundedCache<number>({ maxEntries: MAX_REMEMBERED });

  /** instance: the replica, Events' `reportingInstance` (its pod name); default `provenance-observer` */
  constructor(options: {
    connection: KubeConnection;
    logger: Logger;
    clock?: () => Date;
    instance?: string;
  }) {
    this.#api = new CoreApi(options.connection);
    this.#instance = options.instance || 'provenance-observer';
    this.#logger = options.logger;
    this.#clock = options.clock ?? (() => new Date());
  }

  async record(event: RunEvent, context?: AttemptContext): Promise<void> {
    const { run } = event;
    const namespace = run.namespace;
    const hash = createHash('sha256')
      .update(`${run.uid}\n${event.reason}\n${event.message}`)
      .digest('hex')
      .slice(0, 16);
    const name = `${run.name.slice(0, 200)}.${hash}`;
    const now = this.#clock();
    try {
      try {
        await this.#api.createNamespacedEvent({
          namespace,
          context,
          body: {
            metadata: { name, namespace },
            involvedObject: {
              apiVersion: 'tekton.dev/v1',
              kind: run.kind,
              name: run.name,
              namespace,
              uid: run.uid,
            },
            type: event.type,
            reason: event.reason,
            message: event.message.slice(0, MAX_MESSAGE),
            source: { component: 'provenance-observer' },
            reportingComponent: 'provenance-observer',
            reportingInstance: this.#instance,
            firstTimestamp: now.toISOString(),
            lastTimestamp: now.toISOString(),
            count: 1,
          },
        });
        this.#counts.set(name, 1);
      } catch (err) {
        if (!(err instanceof KubeApiError && err.code === 409)) throw err;
        const count = (this.#counts.get(name) ?? 1) + 1;
        await this.#api.patchNamespacedEvent({
          name,
          namespace,
          context,
          body: { count, lastTimestamp: now.toISOString() },
        });
        this.#counts.set(name, count);
      }
    } catch (err) {
      this.#logger.warn(
        { kind: run.kind, namespace, name: run.name, reason: event.reason, err: (err as Error).message },
        'could not record Kubernetes event',
      );
    }
  }
}
