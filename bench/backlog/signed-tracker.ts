import { type KubeConfig, Watch } from '@kubernetes/client-node';

const SIGNED = 'chains.tekton.dev/signed';

/**
 * Watches the bench namespace's TaskRuns and records, per run name, when it was first seen
 * annotated `signed: "true"` (or `failed`). Resumes the watch from the last resourceVersion when
 * the server closes it. Keeps only names and times.
 */
export class SignedTracker {
  readonly signedAt = new Map<string, number>();
  readonly failed = new Set<string>();
  readonly #kc: KubeConfig;
  readonly #path: string;
  #abort?: AbortController;
  #stopped = false;
  #waiters: { done: () => boolean; resolve: () => void }[] = [];

  constructor(options: { kubeConfig: KubeConfig; namespace: string }) {
    this.#kc = options.kubeConfig;
    this.#path = `/apis/tekton.dev/v1/namespaces/${options.namespace}/taskruns`;
  }

  start(): void {
    void this.#loop();
  }

  async #loop(): Promise<void> {
    let resourceVersion: string | undefined;
    while (!this.#stopped) {
      await new Promise<void>((done) => {
        new Watch(this.#kc)
          .watch(
            this.#path,
            { allowWatchBookmarks: true, ...(resourceVersion ? { resourceVersion } : {}) },
            (
              type,
              obj: {
                metadata?: { name?: string; resourceVersion?: string; annotations?: Record<string, string> };
                code?: number;
              },
            ) => {
              if (type === 'ERROR') {
                if (obj.code === 410) resourceVersion = undefined;
                return;
              }
              resourceVersion = obj.metadata?.resourceVersion ?? resourceVersion;
              const name = obj.metadata?.name;
              const signed = obj.metadata?.annotations?.[SIGNED];
              if (!name || this.signedAt.has(name)) return;
              if (signed === 'true') this.signedAt.set(name, Date.now());
              else if (signed === 'failed') this.failed.add(name);
              else return;
              this.#wake();
            },
            () => done(),
          )
          .then(
            (abort) => {
              this.#abort = abort;
            },
            () => done(),
          );
      });
      if (!this.#stopped) await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Resolves once `done()` holds (checked on every change). */
  until(done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ done, resolve }));
  }

  #wake(): void {
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.done()) return true;
      w.resolve();
      return false;
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#abort?.abort();
  }
}
