export { CHECKPOINT_ENTRY, CheckpointConfigMapWriter } from './client/checkpoint-config-map.ts';
export { CoreApi } from './client/core-api.ts';
export type {
  EventObject,
  NamespaceObject,
  ObjectMeta,
  PodObject,
  SecretObject,
  ServiceAccountObject,
} from './client/core-objects.ts';
export { JsonItemStream, MAX_ITEM_BYTES, type StreamedItem } from './client/json-items.ts';
export { KubeApiError, kubeStatusOf } from './client/kube-api-error.ts';
export { KubeConnection, type KubeMethod, type KubeRequest } from './client/kube-connection.ts';
export { KubeJson, MERGE_PATCH } from './client/kube-json.ts';
export { type ListedPage, listPage, nextPageSize } from './client/kube-list.ts';
export { type WatchEnd, type WatchEvent, type WatchOptions, watch } from './client/kube-watch.ts';
export { PUBLIC_KEY_ENTRY, PublicKeySecretWriter } from './client/public-key-secret.ts';
export { kubeRequestKind } from './client/request-kind.ts';
export { SecretReader, type SecretSnapshot } from './client/secret-reader.ts';
export { TokenBucket } from './client/token-bucket.ts';
export type { EventRecorder, RunEvent } from './event-recorder.ts';
export { FinalizerRunHold, type FinalizerRunHoldOptions } from './finalizer-run-hold.ts';
export { KubeEventRecorder } from './kube-event-recorder.ts';
export { managedByAccepted } from './managed-by.ts';
export { NamespaceLabels } from './namespace-labels.ts';
export { PodReader } from './pod-reader.ts';
export { FIELD_MANAGER, isRunGone, kubeError, RunApi, type RunList, type RunObject } from './run-api.ts';
export { type HeldObject, LEGACY_OBSERVER_FINALIZERS, OBSERVER_FINALIZER, type RunHold } from './run-hold.ts';
export { type OversizedRun, RunWatcher, type RunWatcherOptions } from './run-watcher.ts';
