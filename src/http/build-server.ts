import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { AttestationReader, CursorSealer, DecisionLog, LogCheckpointer } from '../index/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import type { PublicKeyInfo } from '../signing/index.ts';
import { attestationRoutes } from './attestation-routes.ts';
import { requireBearerToken } from './auth.ts';
import type { Authorizer } from './authz/authorizer.ts';
import type { FailedReviewLimit } from './authz/failed-review-limit.ts';
import { installErrorHandling } from './error-handler.ts';
import { type HealthChecks, healthRoutes } from './health-routes.ts';
import { keyRoutes, type TenantKeysOf } from './key-routes.ts';
import { logRoutes } from './log-routes.ts';
import { policyStatementRoute } from './policy-statement-route.ts';
import { runRoutes } from './run-routes.ts';
import type { UiAssets } from './ui/ui-assets.ts';
import { uiRoutes } from './ui/ui-routes.ts';
import type { ProducerSource } from './views/subject-producers.ts';

export interface ApiServerDeps {
  index: AttestationReader &
    Pick<DecisionLog, 'logSize' | 'logNodes' | 'checkpoints' | 'logEntries' | 'findLogEntry'>;
  /** signs decision log checkpoints on demand (POST /api/v1/log/checkpoint); default none */
  checkpointer?: Pick<LogCheckpointer, 'checkpoint'>;
  /** the signed subject policy statement (DSSE envelope JSON), read per request; default none (503) */
  policyStatement?: () => string | undefined;
  /** the published keys, read per request so a rotation shows at once */
  publicKeys: () => PublicKeyInfo[];
  /** a namespace's tenant keys (GET /api/v1/keys?namespace=); default none */
  tenantKeysOf?: TenantKeysOf;
  /** wrap KubeAuthorizer in CachedAuthorizer (authorizerFromKubeConfig does) */
  authorizer: Authorizer;
  /** seals the page cursors clients get; replicas serving the same clients share its secret */
  cursors: CursorSealer;
  /** per-client limit on token reviews (failed ones, and in flight); default FailedReviewLimit's */
  reviewLimit?: FailedReviewLimit;
  /**
   * Serving certificate and key (PEM). When set the app is an HTTPS server, and plain HTTP to its
   * port fails the TLS handshake; rotate with `app.server.setSecureContext` (TlsFileReloader).
   * Unset only for inject tests.
   */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** request logs go here; default none */
  logger?: Logger;
  /** captured runs (the index): which PipelineRun task produced each subject; default none */
  captures?: ProducerSource;
  /** the built provenance page, served under /ui/ (loadUiAssets); undefined: /ui/ says it is not built */
  ui?: UiAssets;
}

export interface ProbeServerDeps {
  metrics: Metrics;
  health: HealthChecks;
  logger?: Logger;
}

/**
 * Limits that keep a burst of bad requests cheap: no request bodies beyond 16 KiB (neither app has
 * any), params at most 300 characters, requests cut off after 30 s.
 */
function baseOptions(logger: Logger | undefined): FastifyServerOptions {
  return {
    ...(logger ? { loggerInstance: logger } : { logger: false }),
    bodyLimit: 16 * 1024,
    routerOptions: { maxParamLength: 300 },
    requestTimeout: 30_000,
    return503OnClosing: true,
  };
}

/**
 * The lookup API, built without listening (the composition root calls `listen`, tests `inject`).
 * Anonymous: /api/v1/keys and the provenance page under /ui/ (code only, no data). Everything else under /api/v1 needs a bearer token the apiserver
 * accepts for our audience, and shows only runs the caller may `get`: schema validation comes
 * before any access review, and reviews are bounded by the Authorizer (CachedAuthorizer).
 * It has no probes or metrics: those are on the probe server's own plain-HTTP port.
 */
export function buildApiServer(deps: ApiServerDeps): FastifyInstance {
  const options = baseOptions(deps.logger);
  const tls = deps.tls ? { https: { cert: deps.tls.cert, key: deps.tls.key } } : {};
  const app = Fastify({ ...options, ...tls } as FastifyServerOptions) as unknown as FastifyInstance;
  installErrorHandling(app);
  keyRoutes(app, deps);
  uiRoutes(app, deps.ui);
  app.register(
    async (api) => {
      requireBearerToken(api, deps.authorizer, deps.reviewLimit);
      attestationRoutes(api, deps);
      runRoutes(api, deps);
      logRoutes(api, {
        log: deps.index,
        authorizer: deps.authorizer,
        ...(deps.checkpointer ? { checkpointer: deps.checkpointer } : {}),
      });
      policyStatementRoute(api, deps);
    },
    { prefix: '/api/v1' },
  );
  return app;
}

/**
 * Probes and metrics, anonymous, plain HTTP: /livez, /readyz, /metrics. Kept off the API's port
 * so that kubelet and Prometheus need no certificate and API clients never reach /metrics.
 */
export function buildProbeServer(deps: ProbeServerDeps): FastifyInstance {
  const app = Fastify(baseOptions(deps.logger)) as unknown as FastifyInstance;
  installErrorHandling(app);
  healthRoutes(app, deps);
  return app;
}
