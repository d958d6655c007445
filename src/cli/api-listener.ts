import { readFileSync } from 'node:fs';
import type { ObserverConfig } from '../config/index.ts';
import { ObserverError } from '../errors.ts';
import {
  buildApiServer,
  CachedAuthorizer,
  KubeAuthorizer,
  loadUiAssets,
  type SecureContextTarget,
  type TenantKeysOf,
  TlsFileReloader,
} from '../http/index.ts';
import {
  type AttestationIndex,
  CursorSealer,
  type LogCheckpointer,
  MIN_CURSOR_SECRET_BYTES,
} from '../index/index.ts';
import type { KubeConnection } from '../kube/index.ts';
import type { Logger } from '../observability/index.ts';
import type { PublicKeyInfo } from '../signing/index.ts';

/**
 * Serves the lookup API over TLS (config keys `api.*`), following certificate changes; listens
 * before returning. Fails (config_invalid) when the key file is missing or the pair does not load.
 */
export async function startApi(
  options: ObserverConfig['api'] & { tlsCertFile: string },
  deps: {
    index: AttestationIndex;
    connection: KubeConnection;
    logger: Logger;
    publicKeys: () => PublicKeyInfo[];
    tenantKeysOf?: TenantKeysOf;
    checkpointer?: LogCheckpointer;
    policyStatement?: () => string | undefined;
  },
) {
  if (!options.tlsKeyFile)
    throw new ObserverError('config key "api.tls-key-file" is required with "api.tls-cert-file"', {
      code: 'config_invalid',
      retryable: false,
    });
  const reloader = new TlsFileReloader({
    certFile: options.tlsCertFile,
    keyFile: options.tlsKeyFile,
    intervalMs: options.tlsReloadSeconds * 1000,
    logger: deps.logger,
  });
  const secret = options.cursorKeyFile ? readCursorSecret(options.cursorKeyFile) : undefined;
  const ui = loadUiAssets();
  if (!ui) deps.logger.warn('the provenance page is not built (npm run build): /ui/ answers 404');
  const server = buildApiServer({
    index: deps.index,
    captures: deps.index,
    ...(deps.checkpointer ? { checkpointer: deps.checkpointer } : {}),
    publicKeys: deps.publicKeys,
    ...(deps.policyStatement ? { policyStatement: deps.policyStatement } : {}),
    ...(deps.tenantKeysOf ? { tenantKeysOf: deps.tenantKeysOf } : {}),
    logger: deps.logger,
    cursors: new CursorSealer({ secret }),
    authorizer: new CachedAuthorizer({
      inner: new KubeAuthorizer({ connection: deps.connection, audiences: options.audiences }),
    }),
    tls: reloader.load(),
    ui,
  });
  const address = await server.listen({ host: options.host, port: options.port });
  reloader.start(server.server as unknown as SecureContextTarget);
  deps.logger.info(
    { address, cursorKeyFile: options.cursorKeyFile ?? null },
    'serving the lookup API and the provenance page at /ui/',
  );
  return { server, address, reloader };
}

function readCursorSecret(file: string): Buffer {
  const fail = (why: string) =>
    new ObserverError(`api.cursor-key-file ${file}: ${why}`, { code: 'config_invalid', retryable: false });
  let secret: Buffer;
  try {
    secret = readFileSync(file);
  } catch (err) {
    throw fail((err as Error).message);
  }
  if (secret.length < MIN_CURSOR_SECRET_BYTES)
    throw fail(`holds ${secret.length} bytes, at least ${MIN_CURSOR_SECRET_BYTES} needed`);
  return secret;
}
