import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../observability/index.ts';

/** Named readiness checks; the service is ready when every one is ok. */
export interface HealthChecks {
  checks(): Record<string, { ok: boolean; message?: string }>;
}

const readySchema = {
  type: 'object',
  required: ['status', 'checks'],
  properties: {
    status: { type: 'string', enum: ['ok', 'not ready'] },
    checks: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        required: ['ok'],
        properties: { ok: { type: 'boolean' }, message: { type: 'string' } },
      },
    },
  },
} as const;

/**
 * Probes and metrics, anonymous. /livez checks nothing outside the process (its job is to get a
 * wedged process restarted, not to restart on a dependency outage); /readyz is 503 naming the
 * failing checks until all pass; /metrics is the Prometheus text of our own registry.
 */
export function healthRoutes(app: FastifyInstance, deps: { health: HealthChecks; metrics: Metrics }): void {
  app.get('/livez', { schema: { response: { 200: { type: 'string' } } } }, async (_request, reply) =>
    reply.type('text/plain; charset=utf-8').send('ok'),
  );

  app.get(
    '/readyz',
    { schema: { response: { 200: readySchema, 503: readySchema } } },
    async (_request, reply) => {
      const checks = deps.health.checks();
      const ready = Object.values(checks).every((c) => c.ok);
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ok' : 'not ready', checks });
    },
  );

  app.get('/metrics', async (_request, reply) =>
    reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics()),
  );
}
