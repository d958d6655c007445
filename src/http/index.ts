export type { Authorizer, Caller } from './authorizer.ts';
export { authorizerFromKubeConfig } from './authorizer-from-kube-config.ts';
export {
  type ApiServerDeps,
  buildApiServer,
  buildProbeServer,
  type ProbeServerDeps,
} from './build-server.ts';
export { CachedAuthorizer, type CachedAuthorizerOptions } from './cached-authorizer.ts';
export { FailedReviewLimit, type FailedReviewLimitOptions } from './failed-review-limit.ts';
export type { HealthChecks } from './health-routes.ts';
export { DEFAULT_AUDIENCES, KubeAuthorizer, type KubeAuthorizerOptions } from './kube-authorizer.ts';
export {
  type SecureContextTarget,
  TlsFileReloader,
  type TlsFileReloaderOptions,
} from './tls-file-reloader.ts';
export { DEFAULT_UI_DIR, loadUiAssets, type UiAssets } from './ui/ui-assets.ts';
export { UI_CSP } from './ui/ui-routes.ts';
