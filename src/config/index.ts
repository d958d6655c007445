export { readDockerConfig } from './docker-config.ts';
export { loadKubeConfig } from './kubeconfig.ts';
export { loadConfig, readConfigSource } from './load.ts';
export { artifactEnabled, parseConfig } from './parse.ts';
export { DEFAULTS, type ArtifactConfig, type BackendChoice, type ObserverConfig, type OciEncoding, type SignerKind, type TransparencyMode } from './schema.ts';
