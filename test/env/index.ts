// The local test environment: what integration tests, the demo and the bench may import.
export { apiserverBinaryPath, apiserverCacheDir, ensureApiserverBinary } from './apiserver-build.ts';
export { OBSERVER_NAMESPACE, setupCluster, TENANT_NAMESPACES } from './cluster-setup.ts';
export {
  daemonPids,
  down,
  LOGS_DIR,
  type Owner,
  STATE_DIR,
  type Status,
  status,
  type UpResult,
  up,
} from './env.ts';
export { IDENTITIES, type IdentitySpec } from './identities.ts';
export {
  apiStatus,
  applyObject,
  FIELD_MANAGER,
  kubeAccessFor,
  kubeAccessWithToken,
  kubeConfigFor,
  kubeConfigWithToken,
} from './kube.ts';
export { ENV_FILE, type Identity, type LocalEnv, loadLocalEnv } from './local-env.ts';
export { DEPLOY_DIR, loadKustomizeBase, type ManifestObject, toApplyBody } from './manifests.ts';
export { freePort, httpStatus, stopDaemon } from './processes.ts';
export { type PrometheusProcess, startPrometheus } from './prometheus.ts';
export { type RegistryProcess, startRegistry } from './registry.ts';
export { buildTokenServer, type TokenServerConfig } from './token-server.ts';
