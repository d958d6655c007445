import type { FastifyInstance } from 'fastify';
import type { LiveConfig, ObserverConfig } from '../../config/index.ts';
import { buildProbeServer } from '../../http/index.ts';
import type { LogCheckpointer } from '../../index/index.ts';
import { startApi } from '../api-listener.ts';
import { ConfigReloader } from '../config-reloader.ts';
import type { ObserverDeps } from '../observer.ts';
import type { Core } from './core.ts';
import type { Part } from './parts.ts';
import { warnAboutDisabledArtifacts } from './setup.ts';
/**
 * The probe server (plain HTTP: /livez, /readyz over every part's checks, /metrics) and the lookup
 * API (TLS, when a certificate is configured), as parts; `health(parts)` hands the probe server
 * the parts whose checks /readyz reports, `shutDown()` makes /readyz fail while stopping.
 */
export function servingParts(
  deps: ObserverDeps,
  config: ObserverConfig,
  core: Core,
  checkpointer?: LogCheckpointer,
  policyStatement?: () => string | undefined,
) {
  const { logger, metrics } = deps;
  let checked: readonly Part[] = [];
  let stopping = false;
  const probe = { server: undefined as unknown as FastifyInstance, address: '' };
  probe.server = buildProbeServer({
    metrics,
    logger,
    health: {
      checks: () => ({
        ...Object.assign({}, ...checked.map((p) => p.health?.() ?? {})),
        shutdown: { ok: !stopping, message: stopping ? 'shutting down' : undefined },
      }),
    },
  });
  const api: { server?: FastifyInstance; address?: string; stop?: () => Promise<void> } = {};
  const { api: apiConfig } = config;
  const parts: Part[] = [
    {
      name: 'probe-server',
      start: async () => {
        probe.address = await probe.server.listen({ host: config.http.host, port: config.http.port });
        logger.info({ address: probe.address }, 'serving probes and metrics');
      },
      stop: () => probe.server.close(),
    },
    {
      name: 'lookup-api',
      start: async () => {
        if (!apiConfig.tlsCertFile)
          return logger.warn('lookup API not served: no TLS certificate configured (api.tls-cert-file)');
        const started = await startApi(
          { ...apiConfig, tlsCertFile: apiConfig.tlsCertFile },
          {
            index: core.index,
            connection: core.connection,
            logger,
            publicKeys: () => core.signing.publicKeys(),
            ...(core.tenants.keysOf ? { tenantKeysOf: core.tenants.keysOf } : {}),
            ...(checkpointer ? { checkpointer } : {}),
            ...(policyStatement ? { policyStatement } : {}),
          },
        );
        Object.assign(api, started, {
          stop: async () => {
            started.reloader.stop();
            await started.server.close();
          },
        });
      },
      stop: () => api.stop?.(),
    },
  ];
  return {
    parts,
    probe,
    api,
    health: (all: readonly Part[]) => {
      checked = all;
    },
    shutDown: () => {
      stopping = true;
    },
  };
}

/** With `--config`, the reloader that re-reads it (its check is `config` on /readyz). */
export function configReloaderParts(deps: ObserverDeps, live: LiveConfig, afterApplied?: () => void): Part[] {
  if (!deps.reloadFrom) return [];
  const { logger, metrics } = deps;
  const reloader = new ConfigReloader({
    ...deps.reloadFrom,
    live,
    intervalSeconds: deps.config.reloadSeconds,
    logger,
    metrics,
    onApplied: (next) => {
      logger.level = next.logLevel;
      warnAboutDisabledArtifacts(next, logger);
      afterApplied?.();
    },
  });
  return [
    {
      name: 'config-reloader',
      start: () => reloader.start(),
      stop: () => reloader.stop(),
      health: () => ({ config: reloader.status() }),
    },
  ];
}
