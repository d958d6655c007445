import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type Daemon, freePort, startDaemon, waitReady } from './processes.ts';

/** Debian's postgresql-15 keeps its server binaries off PATH. */
export const POSTGRES_BIN = '/usr/lib/postgresql/15/bin';

export interface PostgresProcess {
  daemon: Daemon;
  /** superuser URL over TCP, postgres://postgres:<password>@127.0.0.1:<port>/postgres */
  url: string;
  /** PEM file of the CA that signed the server certificate (CN/SAN 127.0.0.1 and localhost) */
  caFile: string;
}

/**
 * Starts PostgreSQL 15 with its cluster at `<stateDir>/postgres` (see clusterDir): initdb, a free port on
 * 127.0.0.1 (password auth, scram-sha-256), the unix socket inside the same directory (trust), TLS
 * on (clients may still connect without it) with a certificate from a throwaway CA. fsync is off:
 * the data is scratch. PostgreSQL refuses to run as root, so as root the server runs as the
 * `postgres` user that Debian's package creates (setpriv execs in place: the PID is the server's).
 */
export async function startPostgres(stateDir: string, logsDir: string): Promise<PostgresProcess> {
  const asServer = serverUser();
  const dir = clusterDir(stateDir, asServer);
  const dataDir = join(dir, 'data');
  const password = randomBytes(12).toString('hex');
  const pwFile = join(dir, 'password');
  writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
  const caFile = makeCertificates(dir);
  if (asServer.owner) chownTree(dir, asServer.owner);
  execFileSync(
    ...asServer.command('initdb', [
      `--pgdata=${dataDir}`,
      '--username=postgres',
      `--pwfile=${pwFile}`,
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
      '--encoding=UTF8',
      '--no-instructions',
    ]),
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const port = await freePort();
  const daemon = await startDaemon(
    'postgres',
    ...asServer.command('postgres', [
      `-D${dataDir}`,
      `-p${port}`,
      '-clisten_addresses=127.0.0.1',
      `-cunix_socket_directories=${dir}`,
      '-cfsync=off',
      '-cfull_page_writes=off',
      '-cmax_connections=200',
      '-cssl=on',
      `-cssl_cert_file=${join(dir, 'server.crt')}`,
      `-cssl_key_file=${join(dir, 'server.key')}`,
    ]),
    join(logsDir, 'postgres.log'),
    dataDir,
  );
  // SIGTERM would wait for every client session to end; SIGINT is PostgreSQL's fast shutdown
  daemon.stopSignal = 'SIGINT';
  const isReady = join(POSTGRES_BIN, 'pg_isready');
  await waitReady(daemon, async () => pgIsReady(isReady, port), 60_000);
  return { daemon, url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`, caFile };
}

/** True when the server on 127.0.0.1:`port` accepts connections. */
export function pgIsReady(binary: string, port: number): boolean {
  try {
    execFileSync(binary, ['-q', '-h', '127.0.0.1', '-p', String(port), '-t', '3'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

interface ServerUser {
  /** [command, args] running a PostgreSQL binary as the server's user */
  command(binary: string, args: string[]): [string, string[]];
  /** set when the files must be handed to another user */
  owner?: { uid: number; gid: number };
  /** true when the server's user can write `dir` (it can enter every directory above it) */
  canWrite(dir: string): boolean;
}

/** Root runs the server as `postgres`; anyone else runs it as themselves. */
function serverUser(): ServerUser {
  if (process.getuid?.() !== 0) {
    return { command: (binary, args) => [join(POSTGRES_BIN, binary), args], canWrite: () => true };
  }
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  const owner = { uid: id('-u'), gid: id('-g') };
  const setpriv = [`--reuid=${owner.uid}`, `--regid=${owner.gid}`, '--init-groups', '--inh-caps=-all'];
  const canWrite = (dir: string) => {
    try {
      execFileSync('setpriv', [...setpriv, 'test', '-w', dir], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  return {
    command: (binary, args) => ['setpriv', [...setpriv, join(POSTGRES_BIN, binary), ...args]],
    owner,
    canWrite,
  };
}

/**
 * The cluster's directory: `<stateDir>/postgres` when the server's user can write it. Run as root,
 * the server runs as `postgres`, which must be able to enter every directory above its own: a
 * checkout under a private directory (`mktemp -d`, `/root`) is not one it may enter, so the cluster
 * then lives under the system's temporary directory (or /var/tmp, when the server's user cannot enter
 * that either), named after the state directory (the same checkout reuses and clears it) and linked
 * from `<stateDir>/postgres`. Each place is tried as that user, never assumed; a place whose socket
 * path would be too long (a deep checkout, a long TMPDIR) is skipped.
 */
function clusterDir(stateDir: string, asServer: ServerUser): string {
  const inState = join(stateDir, 'postgres');
  rmSync(inState, { recursive: true, force: true });
  mkdirSync(stateDir, { recursive: true });
  // the state directory and the one above it are ours: let other users pass through them (not list them)
  if (asServer.owner)
    for (const up of [stateDir, dirname(stateDir)]) chmodSync(up, statSync(up).mode | 0o011);
  const id = createHash('sha256').update(stateDir).digest('hex').slice(0, 12);
  const name = `provenance-observer-postgres-${id}`;
  const places = [...new Set([inState, join(tmpdir(), name), join('/tmp', name), join('/var/tmp', name)])];
  for (const dir of places.filter(socketFits)) {
    if (dir !== inState) rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { mode: 0o700 });
    if (asServer.owner) chownTree(dir, asServer.owner);
    if (asServer.canWrite(dir)) {
      if (dir !== inState) symlinkSync(dir, inState);
      return dir;
    }
    rmSync(dir, { recursive: true, force: true });
  }
  throw new Error(
    `postgres: none of ${places.join(', ')} is writable by its user with a short enough socket path`,
  );
}

/** The server's unix socket goes in its directory; Linux caps a socket path at 107 bytes. */
function socketFits(dir: string): boolean {
  return Buffer.byteLength(join(dir, '.s.PGSQL.65535')) <= 107;
}

function chownTree(dir: string, owner: { uid: number; gid: number }): void {
  execFileSync('chown', ['-R', `${owner.uid}:${owner.gid}`, dir]);
}

/** A throwaway CA and a server certificate for 127.0.0.1/localhost signed by it; returns the CA file. */
function makeCertificates(dir: string): string {
  const f = (name: string) => join(dir, name);
  const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  // biome-ignore format: one openssl flag per pair reads better
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-subj', '/CN=test-postgres-ca', '-days', '30', '-keyout', f('ca.key'), '-out', f('ca.crt')]);
  // biome-ignore format: one openssl flag per pair reads better
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', f('server.key'), '-out', f('server.csr')]);
  // biome-ignore format: one openssl flag per pair reads better
  openssl(['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'),
    '-CAcreateserial', '-days', '30', '-copy_extensions', 'copyall', '-out', f('server.crt')]);
  chmodSync(f('server.key'), 0o600);
  return f('ca.crt');
}
