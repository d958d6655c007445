export type { Authorizer, Caller } from './authorizer.ts';
export { authorizerFromKubeConfig } from './authorizer-from-kube-config.ts';
export { buildServer, type ServerDeps } from './build-server.ts';
export { CachedAuthorizer, type CachedAuthorizerOptions } from './cached-authorizer.ts';
export type { HealthChecks } from './health-routes.ts';
export { KubeAuthorizer, type KubeAuthorizerOptions } from './kube-authorizer.ts';
