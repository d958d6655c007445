import type { AttestOutcome } from '../../src/attest/attestor.ts';
import type { Attestor } from '../../src/attest/index.ts';
import { parseConfig } from '../../src/config/index.ts';
import type { RunObservation, RunSource } from '../../src/controller/index.ts';
import { ObserverError } from '../../src/errors.ts';
import {
  type EventRecorder,
  KubeApiError,
  kubeError,
  type RunApi,
  type RunEvent,
  type RunObject,
} from '../../src/kube/index.ts';
import type { AttemptContext } from '../../src/model/index.ts';
import { createLogger, createMetrics } from '../../src/observability/index.ts';
import { Reconciler, type ReconcilerOptions } from '../../src/reconcile/index.ts';
import type { Signer } from '../../src/signing/index.ts';
import type { BackendName, StorageBackend, StoreRequest, StoreResult } from '../../src/storage/index.ts';
import type { TektonRun } from '../../src/tekton/index.ts';
import type { RunKey, RunRef } from '../../src/tekton/run-ref.ts';

/** Runs in memory; patches merge annotations like a JSON merge patch does. */
export class FakeRunApi {
  readonly objects = new Map<string, RunObject>();
  readonly patches: { key: RunKey; annotations: Record<string, string | null> }[] = [];
  static id = (k: RunKey) => `${k.kind}/${k.namespace}/${k.name}`;

  put(kind: RunKey['kind'], obj: RunObject): void {
    this.objects.set(
      FakeRunApi.id({ kind, namespace: obj.metadata.namespace, name: obj.metadata.name }),
      obj,
    );
  }
  async get(key: RunKey) {
    return structuredClone(this.objects.get(FakeRunApi.id(key)));
  }
  async patchAnnotations(key: RunKey, annotations: Record<string, string | null>, uid?: string) {
    this.patches.push({ key, annotations });
    const obj = this.objects.get(FakeRunApi.id(key));
    if (!obj)
      throw kubeError(`annotating ${FakeRunApi.id(key)}`, new KubeApiError(404, { message: 'not found' }));
    // the uid precondition: another incarnation of the name answers 409 Conflict
    if (uid && obj.metadata.uid !== uid)
      throw kubeError(
        `annotating ${FakeRunApi.id(key)}`,
        new KubeApiError(409, { message: 'uid precondition' }),
      );
    const merged = { ...(obj.metadata.annotations ?? {}) };
    for (const [k, v] of Object.entries(annotations)) {
      if (v === null) delete merged[k];
      else merged[k] = v;
    }
    obj.metadata.annotations = merged;
  }
  annotation(key: RunKey, name: string): string | undefined {
    return this.objects.get(FakeRunApi.id(key))?.metadata.annotations?.[name];
  }
}
FakeRunApi satisfies new () => Pick<RunApi, 'get' | 'patchAnnotations'>;

export class FakeEvents implements EventRecorder {
  readonly events: RunEvent[] = [];
  async record(e: RunEvent) {
    this.events.push(e);
  }
  reasons(): string[] {
    return this.events.map((e) => e.reason);
  }
}

/** Returns queued outcomes in order; records what it was asked to attest. */
export class FakeAttestor {
  readonly calls: { uid: string; children: unknown[] }[] = [];
  readonly forgotten: string[] = [];
  outcomes: AttestOutcome[] = [];
  async attest(
    run: { uid: string },
    _object: unknown,
    children: unknown[],
    _signer?: unknown,
    _context?: AttemptContext,
  ): Promise<AttestOutcome> {
    this.calls.push({ uid: run.uid, children });
    const next = this.outcomes.shift();
    if (!next) throw new Error('FakeAttestor: no outcome queued');
    return next;
  }
  forget(uid: string) {
    this.forgotten.push(uid);
  }
}
FakeAttestor satisfies new () => Pick<Attestor, 'attest' | 'forget'>;

export const fakeSigner: Signer = {
  keyId: 'SHA256:fake',
  algorithm: 'ecdsa-p256-sha256',
  publicKeyPem: '-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n',
  async sign() {
    return { signature: new Uint8Array([1]), keyId: 'SHA256:fake', publicKeyPem: '' };
  },
};

export const silentLogger = () => createLogger({ level: 'silent' });

/** A run source the test feeds by hand (`observe`). */
export class FakeSource implements RunSource {
  observe: (o: RunObservation) => void = () => {};
  async start(observe: (o: RunObservation) => void) {
    this.observe = observe;
  }
  stop() {}
  synced() {
    return true;
  }
}

export function okOutcome(uid: string): AttestOutcome {
  const envelope = {
    payloadType: 'application/vnd.in-toto+json',
    payload: 'e30=',
    signatures: [{ keyid: 'SHA256:fake', sig: 'AQ==' }],
  };
  const artifact = {
    type: 'provenance' as const,
    key: `taskrun-${uid}`,
    predicateType: 'https://slsa.dev/provenance/v1',
    payload: new Uint8Array(),
    envelope,
    envelopeBytes: new TextEncoder().encode(JSON.stringify(envelope)),
    images: [],
    keyId: 'SHA256:fake',
  };
  return {
    provenance: {
      artifact,
      statement: {
        _type: 'https://in-toto.io/Statement/v1',
        subject: [{ name: 'registry.test/app', digest: { sha256: 'a'.repeat(64) } }],
        predicateType: 'https://slsa.dev/provenance/v1',
        predicate: {},
      },
    },
    results: [
      { artifact, result: { backend: 'oci', ok: true, locations: ['registry.test/app:sha256-aaa.att'] } },
    ],
    skipped: [],
    ok: true,
    adopted: false,
  };
}

export function failedOutcome(uid: string, retryable = true): AttestOutcome {
  const ok = okOutcome(uid);
  const artifact = ok.results[0]!.artifact;
  return {
    ...ok,
    ok: false,
    results: [
      {
        artifact,
        result: {
          backend: 'oci',
          ok: false,
          error: new ObserverError('registry registry.test is down', { code: 'registry', retryable }),
        },
      },
    ],
  };
}

export function doneTaskRun(name: string, uid: string, annotations: Record<string, string> = {}): RunObject {
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'TaskRun',
    metadata: { name, namespace: 'tenant-a', uid, annotations },
    spec: { serviceAccountName: 'pipeline' },
    status: { conditions: [{ type: 'Succeeded', status: 'True' }], completionTime: '2026-11-26T10:00:00Z' },
  };
}

/** A Reconciler on fakes (runs, attestor, Events, the fake signer) and the given index, with its fakes. */
export function fakeReconciler(
  index: ReconcilerOptions['index'],
  config: Record<string, string> = {},
  clock?: () => number,
) {
  const runs = new FakeRunApi();
  const attestor = new FakeAttestor();
  const events = new FakeEvents();
  const metrics = createMetrics();
  const reconciler = new Reconciler({
    config: parseConfig({ 'observer.success-events': 'true', ...config }),
    runApi: runs,
    index,
    attestor,
    events,
    metrics,
    logger: silentLogger(),
    signer: () => fakeSigner,
    ...(clock ? { clock } : {}),
  });
  return { runs, attestor, events, reconciler, metrics };
}

/** A storage backend that records what it was asked to store; `failNext` fails that many. */
export class FakeBackend implements StorageBackend {
  readonly requests: StoreRequest[] = [];
  readonly name: BackendName;
  failNext = 0;
  constructor(name: BackendName) {
    this.name = name;
  }
  async store(request: StoreRequest): Promise<StoreResult> {
    this.requests.push(request);
    if (this.failNext > 0) {
      this.failNext--;
      return {
        backend: this.name,
        ok: false,
        error: new ObserverError(`${this.name} down`, { code: 'storage', retryable: true }),
      };
    }
    return { backend: this.name, ok: true, locations: [`${this.name}:${request.artifact.key}`] };
  }
}

/** The TaskRun `taskRun` builds. */
export const taskRunRef: RunRef = {
  kind: 'TaskRun',
  namespace: 'tenant-a',
  name: 'build-1',
  uid: 'uid-1',
  serviceAccountName: 'pipeline',
};
/** A finished TaskRun tenant-a/build-1 with these results (and annotations). */
export const taskRun = (
  results: { name: string; value: string }[],
  annotations: Record<string, string> = {},
): TektonRun =>
  ({
    apiVersion: 'tekton.dev/v1',
    kind: 'TaskRun',
    metadata: { name: 'build-1', namespace: 'tenant-a', uid: 'uid-1', annotations },
    spec: { taskRef: { name: 'buildah' } },
    status: {
      conditions: [{ type: 'Succeeded', status: 'True' }],
      startTime: '2026-11-26T10:00:00Z',
      completionTime: '2026-11-26T10:01:00Z',
      results: results.map((r) => ({ type: 'string', ...r })),
      steps: [
        {
          name: 'build',
          container: 'step-build',
          imageID: `docker.io/library/busybox@sha256:${'c'.repeat(64)}`,
        },
      ],
      taskSpec: { steps: [{ name: 'build', image: 'busybox', script: 'true' }] },
    },
  }) as unknown as TektonRun;
