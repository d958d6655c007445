import Fastify, { type FastifyInstance } from 'fastify';
import type { AttestationReader } from '../index/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import type { PublicKeyInfo } from '../signing/index.ts';
import { attestationRoutes } from './attestation-routes.ts';
import { requireBearerToken } from './auth.ts';
import type { Authorizer } from './authorizer.ts';
import { installErrorHandling } from './error-handler.ts';
import { type HealthChecks, healthRoutes } from './health-routes.ts';
import { keyRoutes } from './key-routes.ts';
import { runRoutes } from './run-routes.ts';

export interface ServerDeps {
  index: AttestationReader;
  /** the published keys, read per request so a rotation shows at once */
  publicKeys: () => PublicKeyInfo[];
  metrics: Metrics;
  health: HealthChecks;
  /** wrap KubeAuthorizer in CachedAuthorizer (authorizerFromKubeConfig does) */
  authorizer: Authorizer;
  /** request logs go here; default none */
  logger?: Logger;
}

/**
 * Builds the HTTP app and returns it without listening: the composition root calls `listen`, tests
 * call `inject`. Anonymous: /livez, /readyz, /metrics, /api/v1/keys. Everything else under /api/v1
 * needs a bearer token the apiserver accepts, and shows only runs the caller may `get`.
 *
 * Limits that keep a burst of bad requests cheap: no request bodies beyond 16 KiB (the API has
 * none), params at most 300 characters, requests cut off after 30 s, schema validation before any
 * access review, and reviews bounded by the Authorizer (CachedAuthorizer).
 */
export function buildServer(deps: ServerDeps): FastifyInstance {
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    bodyLimit: 16 * 1024,
    routerOptions: { maxParamLength: 300 },
    requestTimeout: 30_000,
    return503OnClosing: true,
  }) as unknown as FastifyInstance;
  installErrorHandling(app);
  healthRoutes(app, deps);
  keyRoutes(app, deps);
  app.register(
    async (api) => {
      requireBearerToken(api, deps.authorizer);
      attestationRoutes(api, deps);
      runRoutes(api, deps);
    },
    { prefix: '/api/v1' },
  );
  return app;
}
