export { CoreApi } from './core-api.ts';
export type {
  EventObject,
  NamespaceObject,
  ObjectMeta,
  PodObject,
  SecretObject,
  ServiceAccountObject,
} from './core-objects.ts';
export type { EventRecorder, RunEvent } from './event-recorder.ts';
export { FinalizerRunHold, type FinalizerRunHoldOptions } from './finalizer-run-hold.ts';
export { JsonLines } from './json-lines.ts';
export { KubeApiError, kubeStatusOf } from './kube-api-error.ts';
export { KubeConnection, type KubeMethod, type KubeRequest } from './kube-connection.ts';
export { KubeEventRecorder } from './kube-event-recorder.ts';
export { KubeJson, MERGE_PATCH } from './kube-json.ts';
export { type WatchEnd, type WatchEvent, type WatchOptions, watch } from './kube-watch.ts';
export { managedByAccepted } from './managed-by.ts';
export { NamespaceLabels } from './namespace-labels.ts';
export { PodReader } from './pod-reader.ts';
export { FIELD_MANAGER, isRunGone, kubeError, RunApi, type RunList, type RunObject } from './run-api.ts';
export { type HeldObject, LEGACY_OBSERVER_FINALIZERS, OBSERVER_FINALIZER, type RunHold } from './run-hold.ts';
export { RunWatcher, type RunWatcherOptions } from './run-watcher.ts';
export { PUBLIC_KEY_ENTRY, PublicKeySecretWriter } from './secret/public-key-secret.ts';
export { SecretReader, type SecretSnapshot } from './secret/secret-reader.ts';
export { TokenBucket } from './token-bucket.ts';
