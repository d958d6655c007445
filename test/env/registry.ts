import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { type Daemon, freePort, httpStatus, startDaemon, stopDaemon, waitReady } from './processes.ts';
import type { RestrictedUser, TokenServerConfig } from './token-server.ts';

export interface TokenAuth {
  realm: string;
  service: string;
  issuer: string;
  rootCertBundle: string;
}

export interface RegistryProcess {
  daemon: Daemon;
  /** host:port on 127.0.0.1, plain HTTP */
  address: string;
}

/**
 * Starts Debian's docker-registry (distribution 2.8) on a free loopback port, storage under
 * `<stateDir>/<name>` (kept: started again with the same name and port, it serves the same content); anonymous unless `auth` is given (Bearer tokens from the token server).
 * Ready when /v2/ answers 200 (anonymous) or 401 (token auth).
 */
export async function startRegistry(
  name: string,
  stateDir: string,
  logsDir: string,
  auth?: TokenAuth,
  /** listen here (a restart on the address clients know); default a free port */
  fixedPort?: number,
): Promise<RegistryProcess> {
  const dir = join(stateDir, name);
  mkdirSync(join(dir, 'data'), { recursive: true });
  const port = fixedPort ?? (await freePort());
  const address = `127.0.0.1:${port}`;
  const config = {
    version: 0.1,
    log: { level: 'warn', accesslog: { disabled: true } },
    storage: { filesystem: { rootdirectory: join(dir, 'data') }, delete: { enabled: true } },
    http: { addr: address, secret: 'local-test-environment' },
    ...(auth && {
      auth: {
        token: {
          realm: auth.realm,
          service: auth.service,
          issuer: auth.issuer,
          rootcertbundle: auth.rootCertBundle,
        },
      },
    }),
  };
  const configFile = join(dir, 'config.yml');
  writeFileSync(configFile, stringify(config));
  const daemon = await startDaemon(
    name,
    'docker-registry',
    ['serve', configFile],
    join(logsDir, `${name}.log`),
  );
  const expected = auth ? 401 : 200;
  await waitReady(daemon, async () => (await httpStatus(`http://${address}/v2/`)) === expected, 30_000);
  return { daemon, address };
}

export interface TokenRegistry {
  tokenServer: Daemon;
  registry: RegistryProcess;
  username: string;
  password: string;
  /** tenant-a's own registry account: repositories under `tenant-a/` only (token-server.ts `restricted`) */
  tenantA: RestrictedUser;
}

/**
 * The token-auth registry pair: an ES256 issuer certificate made with openssl, the node:http token
 * server (token-server.ts) as a daemon, and a registry trusting that certificate.
 */
export async function startTokenRegistry(stateDir: string, logsDir: string): Promise<TokenRegistry> {
  const dir = join(stateDir, 'token-server');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyFile = join(dir, 'token.key');
  const certFile = join(dir, 'token.crt');
  // biome-ignore format: one openssl flag per pair reads better
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-subj', '/CN=test-token-issuer', '-days', '30', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
  const config: TokenServerConfig = {
    port: await freePort(),
    keyFile,
    certFile,
    issuer: 'test-issuer',
    username: 'alice',
    password: 'wonderland',
    restricted: [{ username: 'tenant-a-pusher', password: 'tenant-a-secret', prefix: 'tenant-a/' }],
  };
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify(config), { mode: 0o600 });
  const script = join(import.meta.dirname, 'token-server.ts');
  const tokenServer = await startDaemon(
    'token-server',
    process.execPath,
    [script, configFile],
    join(logsDir, 'token-server.log'),
    'token-server.ts',
  );
  const realm = `http://127.0.0.1:${config.port}/token`;
  await waitReady(tokenServer, async () => (await httpStatus(realm)) === 401, 15_000);
  const registry = await startRegistry('token-registry', stateDir, logsDir, {
    realm,
    service: 'test-registry',
    issuer: config.issuer,
    rootCertBundle: certFile,
  }).catch(async (err) => {
    await stopDaemon(tokenServer);
    throw err;
  });
  const tenantA = config.restricted?.[0] as RestrictedUser;
  return { tokenServer, registry, username: config.username, password: config.password, tenantA };
}
