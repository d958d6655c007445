import { createHash } from 'node:crypto';
import { ApiException, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../observability/index.ts';
import type { EventRecorder, RunEvent } from './event-recorder.ts';

/** Kubernetes caps an Event message at 1 KiB in practice (kubectl truncates); keep them short. */
const MAX_MESSAGE = 1024;

/**
 * Records core/v1 Events on the run. The Event name is derived from the run, reason and message,
 * so the same event repeated bumps `count` on one object instead of creating many.
 */
export class KubeEventRecorder implements EventRecorder {
  readonly #api: CoreV1Api;
  readonly #logger: Logger;
  readonly #clock: () => Date;

  constructor(options: { kubeConfig: KubeConfig; logger: Logger; clock?: () => Date }) {
    this.#api = options.kubeConfig.makeApiClient(CoreV1Api);
    this.#logger = options.logger;
    this.#clock = options.clock ?? (() => new Date());
  }

  async record(event: RunEvent): Promise<void> {
    const { run } = event;
    const namespace = run.namespace;
    const hash = createHash('sha256').update(`${run.uid}\n${event.reason}\n${event.message}`).digest('hex').slice(0, 16);
    const name = `${run.name.slice(0, 200)}.${hash}`;
    const now = this.#clock();
    try {
      const existing = await this.#api.readNamespacedEvent({ name, namespace }).catch((err: unknown) => {
        if (err instanceof ApiException && err.code === 404) return undefined;
        throw err;
      });
      if (existing) {
        await this.#api.replaceNamespacedEvent({
          name,
          namespace,
          body: { ...existing, count: (existing.count ?? 1) + 1, lastTimestamp: now },
        });
        return;
      }
      await this.#api.createNamespacedEvent({
        namespace,
        body: {
          metadata: { name, namespace },
          involvedObject: { apiVersion: 'tekton.dev/v1', kind: run.kind, name: run.name, namespace, uid: run.uid },
          type: event.type,
          reason: event.reason,
          message: event.message.slice(0, MAX_MESSAGE),
          source: { component: 'provenance-observer' },
          reportingComponent: 'provenance-observer',
          reportingInstance: 'provenance-observer',
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
    } catch (err) {
      this.#logger.warn(
        { kind: run.kind, namespace, name: run.name, reason: event.reason, err: (err as Error).message },
        'could not record Kubernetes event',
      );
    }
  }
}
