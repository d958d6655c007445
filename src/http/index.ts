export type { Authorizer, Caller } from './authz/authorizer.ts';
export { authorizerFromKubeConfig } from './authz/authorizer-from-kube-config.ts';
export { CachedAuthorizer, type CachedAuthorizerOptions } from './authz/cached-authorizer.ts';
export { FailedReviewLimit, type FailedReviewLimitOptions } from './authz/failed-review-limit.ts';
export { DEFAULT_AUDIENCES, KubeAuthorizer, type KubeAuthorizerOptions } from './authz/kube-authorizer.ts';
export {
  type ApiServerDeps,
  buildApiServer,
  buildProbeServer,
  type ProbeServerDeps,
} from './build-server.ts';
export type { HealthChecks } from './health-routes.ts';
export type { TenantKeysOf } from './key-routes.ts';
export {
  type SecureContextTarget,
  TlsFileReloader,
  type TlsFileReloaderOptions,
} from './tls-file-reloader.ts';
export { DEFAULT_UI_DIR, loadUiAssets, type UiAssets } from './ui/ui-assets.ts';
export { UI_CSP } from './ui/ui-routes.ts';
