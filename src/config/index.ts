export { readDockerConfig } from './docker-config.ts';
export { loadKubeConfig } from './kubeconfig.ts';
export { loadConfig, readConfigSource } from './load.ts';
export { artifactEnabled, parseConfig } from './parse.ts';
export {
  type ArtifactConfig,
  type BackendChoice,
  DEFAULTS,
  type ObserverConfig,
  type OciEncoding,
  type SignerKind,
  type TransparencyMode,
} from './schema.ts';
