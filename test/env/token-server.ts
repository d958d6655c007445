import { createPrivateKey, randomUUID, sign, timingSafeEqual, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';

/**
 * A minimal Docker registry token server (https://distribution.github.io/distribution/spec/auth/token/):
 * GET /token?service=S&scope=repository:NAME:ACTIONS with Basic user:pass issues an ES256 JWT whose
 * header carries the certificate (x5c) the registry trusts via `auth.token.rootcertbundle`.
 * Wrong or missing credentials get 401. Every requested repository action is granted to the main user;
 * a `restricted` user (a tenant's own registry account) is granted actions only on repositories
 * under its prefix, and a request that names only other repositories is refused with 403 DENIED
 * (as GHCR or GitLab answer a token request outside the account's grants).
 * Run standalone: `node test/env/token-server.ts <config.json>` (TokenServerConfig as JSON).
 */
export interface TokenServerConfig {
  port: number;
  keyFile: string;
  certFile: string;
  issuer: string;
  username: string;
  password: string;
  /** token lifetime in seconds (default 300) */
  ttlSeconds?: number;
  /** further users, each granted repositories under its `prefix` only (e.g. `tenant-a/`) */
  restricted?: RestrictedUser[];
}

export interface RestrictedUser {
  username: string;
  password: string;
  prefix: string;
}

interface Access {
  type: string;
  name: string;
  actions: string[];
}

export function buildTokenServer(config: TokenServerConfig): Server {
  const key = createPrivateKey(readFileSync(config.keyFile));
  const certDer = new X509Certificate(readFileSync(config.certFile)).raw.toString('base64');
  const expected = Buffer.from(`${config.username}:${config.password}`);
  const restricted = (config.restricted ?? []).map((u) => ({
    ...u,
    expected: Buffer.from(`${u.username}:${u.password}`),
  }));
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' || url.pathname !== '/token') {
      res.writeHead(404).end();
      return;
    }
    const limited = restricted.find((u) => credentialsMatch(req.headers.authorization, u.expected));
    if (!limited && !credentialsMatch(req.headers.authorization, expected)) {
      res.writeHead(401, { 'Content-Type': 'application/json', 'WWW-Authenticate': 'Basic realm="token"' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'invalid username/password' }] }));
      return;
    }
    const asked = url.searchParams.getAll('scope').flatMap(parseScope);
    const access = limited ? asked.filter((a) => a.name.startsWith(limited.prefix)) : asked;
    if (asked.length > 0 && access.length === 0) {
      res.writeHead(403, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({
          errors: [{ code: 'DENIED', message: 'requested access to the resource is denied' }],
        }),
      );
      return;
    }
    const ttl = config.ttlSeconds ?? 300;
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: config.issuer,
      aud: url.searchParams.get('service') ?? '',
      sub: limited?.username ?? config.username,
      exp: now + ttl,
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access,
    };
    const token = signJwt({ alg: 'ES256', typ: 'JWT', x5c: [certDer] }, claims, key);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(
      JSON.stringify({
        token,
        access_token: token,
        expires_in: ttl,
        issued_at: new Date(now * 1000).toISOString(),
      }),
    );
  });
}

function credentialsMatch(header: string | undefined, expected: Buffer): boolean {
  if (!header?.startsWith('Basic ')) return false;
  const given = Buffer.from(header.slice(6), 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** `repository:demo/app:push,pull` → one access entry; several scopes may be space-separated. */
function parseScope(scope: string): Access[] {
  return scope
    .split(' ')
    .filter(Boolean)
    .map((s) => {
      const first = s.indexOf(':');
      const last = s.lastIndexOf(':');
      return {
        type: s.slice(0, first),
        name: s.slice(first + 1, last),
        actions: s.slice(last + 1).split(','),
      };
    });
}

function signJwt(header: object, claims: object, key: ReturnType<typeof createPrivateKey>): string {
  const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${b64(header)}.${b64(claims)}`;
  // JWS ES256 wants the raw r||s signature, not DER.
  const sig = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${sig.toString('base64url')}`;
}

if (import.meta.main) {
  const config = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as TokenServerConfig;
  const server = buildTokenServer(config);
  server.listen(config.port, '127.0.0.1', () => console.log(`token server on 127.0.0.1:${config.port}`));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}
