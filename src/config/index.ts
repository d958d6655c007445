export { CONFIG_DOC_BEGIN, CONFIG_DOC_END, configDoc, withConfigDoc } from './doc.ts';
export { readDockerConfig } from './docker-config.ts';
export { FAULT_ENV, type FaultHook, faultHookFromEnv } from './fault-hook.ts';
export { CONFIG_ROWS, type ConfigRow, IGNORED_KEYS, UNSUPPORTED_KEYS } from './keys.ts';
export type { KubeAccess } from './kube-access.ts';
export { type LoadKubeConfigOptions, loadKubeConfig, SERVICE_ACCOUNT_DIR } from './kubeconfig.ts';
export { readKubeconfigFile } from './kubeconfig-file.ts';
export { LiveConfig } from './live.ts';
export { loadConfig, readConfigSource, replicaName } from './load.ts';
export { parseConfig } from './parse.ts';
export {
  type ArtifactConfig,
  artifactEnabled,
  type BackendChoice,
  type ConfigKey,
  DEFAULTS,
  type ObserverConfig,
  type OciEncoding,
  type SignerKind,
  type TransparencyMode,
} from './schema.ts';
export { TOKEN_FILE_MAX_AGE_MS, tokenFromFile } from './token-file.ts';
