export type { EventRecorder, RunEvent } from './event-recorder.ts';
export { KubeEventRecorder } from './kube-event-recorder.ts';
export { managedByAccepted } from './managed-by.ts';
export { NamespaceLabels } from './namespace-labels.ts';
export { PodReader } from './pod-reader.ts';
export { reuseConnections } from './reuse-connections.ts';
export { FIELD_MANAGER, kubeError, RunApi, type RunList, type RunObject } from './run-api.ts';
export { RunWatcher, type RunWatcherOptions } from './run-watcher.ts';
export { SecretReader, type SecretSnapshot } from './secret-reader.ts';
