import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import {
  createServer as createHttp,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttps } from 'node:https';
import { type AddressInfo, createServer as createTcp, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';

/**
 * A registry that plays the attacker (the one place a fake server is right: no real registry
 * misbehaves on purpose). Each scenario is a repository `<scenario>/app`; every answer that carries
 * text carries MARKER, which must never reach a tenant. Blob HEADs answer 200 so the observer goes
 * straight to the `.att`/`.sig` manifest read, where the attack is.
 */
export const MARKER = 'HOSTILE-7c1e-MARKER';

export type Scenario =
  | 'gzip-bomb'
  | 'oversized-manifest'
  | 'many-layers'
  | 'slow'
  | 'realm-elsewhere'
  | 'redirect-elsewhere'
  | 'https-to-http'
  | 'garbage-auth'
  | 'error-body';

export interface HostileRegistry {
  /**
   * plain-HTTP registry `127.0.0.1:<port>`, one port per scenario: each attack meets the observer's
   * per-host circuit breaker on its own, as attacks from different tenants' registries would
   */
  hosts: Record<Scenario, string>;
  /** HTTPS registry `127.0.0.1:<port>` (cert in `caFile`) that redirects to plain HTTP */
  tlsHost: string;
  caFile: string;
  /** connections to the listener on 127.0.0.2 (realm and redirect target): must stay 0 */
  forbiddenConnections: () => number;
  /** requests that reached the plain-HTTP target of the https→http redirect: must stay 0 */
  downgradedRequests: () => number;
  close(): void;
}

/** gzip of `mib` MiB of zeros (about 1 KiB per MiB), made in chunks so the test itself stays small. */
async function gzipBomb(mib: number): Promise<Buffer> {
  const gz = createGzip({ level: 9 });
  const out: Buffer[] = [];
  gz.on('data', (c: Buffer) => out.push(c));
  const done = new Promise((r) => gz.on('end', r));
  const zeros = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < mib; i++) if (!gz.write(zeros)) await new Promise((r) => gz.once('drain', r));
  gz.end();
  await done;
  return Buffer.concat(out);
}

function manyLayers(n: number): Buffer {
  const layer = {
    mediaType: 'application/vnd.dsse.envelope.v1+json',
    size: 1,
    digest: `sha256:${'a'.repeat(64)}`,
    annotations: { note: MARKER },
  };
  const config = { mediaType: 'application/vnd.oci.image.config.v1+json', size: 2, digest: layer.digest };
  const manifest = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config };
  return Buffer.from(JSON.stringify({ ...manifest, layers: Array(n).fill(layer) }));
}

/** Streams `mib` MiB with backpressure, stopping when the client goes away. */
async function streamLarge(res: ServerResponse, mib: number): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
  const chunk = Buffer.from(`{"marker":"${MARKER}","pad":"${'x'.repeat(64 * 1024)}`);
  for (let sent = 0; sent < mib * 1024 * 1024 && !res.destroyed; sent += chunk.length)
    if (!res.write(chunk))
      await new Promise<void>((r) => {
        const go = () => {
          res.off('drain', go);
          res.off('close', go);
          r();
        };
        res.on('drain', go);
        res.on('close', go);
      });
  res.end();
}

export async function startHostileRegistry(): Promise<HostileRegistry> {
  const bomb = await gzipBomb(256);
  const layers = manyLayers(10_000);
  let forbidden = 0;
  let downgraded = 0;
  const recorder: TcpServer = createTcp((s) => {
    forbidden++;
    s.destroy();
  });
  await new Promise<void>((r) => recorder.listen(0, '127.0.0.2', r));
  const elsewhere = `127.0.0.2:${(recorder.address() as AddressInfo).port}`;
  const hosts = {} as Record<Scenario, string>;
  const errorBody = JSON.stringify({ errors: [{ code: 'DENIED', message: MARKER }] });

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const [, , scenario = ''] = (req.url ?? '').split('/');
    const isManifest = (req.url ?? '').includes('/manifests/');
    if (scenario === 'downgrade-target') downgraded++;
    const attacksEveryRequest = ['slow', 'realm-elsewhere', 'garbage-auth'].includes(scenario);
    const blobHead = req.method === 'HEAD' && (req.url ?? '').includes('/blobs/');
    if (blobHead && !attacksEveryRequest) return void res.writeHead(200).end();
    // blob uploads succeed (a fresh blob is pushed without a HEAD first), so the attack is met
    // where it is aimed: at the manifest reads of the tag append
    const upload = (req.url ?? '').includes('/blobs/uploads/');
    if (upload && !attacksEveryRequest && req.method === 'POST')
      return void res.writeHead(202, { location: `${(req.url ?? '').split('?')[0]}session` }).end();
    if (upload && !attacksEveryRequest && req.method === 'PUT') {
      const digest = new URL(req.url ?? '', 'http://x').searchParams.get('digest') ?? '';
      req.resume();
      return void req.on('end', () => res.writeHead(201, { 'docker-content-digest': digest }).end());
    }
    switch (scenario as Scenario) {
      case 'gzip-bomb':
        if (!isManifest) break;
        return void res
          .writeHead(200, {
            'content-type': 'application/vnd.oci.image.manifest.v1+json',
            'content-encoding': 'gzip',
          })
          .end(bomb);
      case 'oversized-manifest':
        if (!isManifest) break;
        return void streamLarge(res, 50);
      case 'many-layers':
        if (!isManifest) break;
        return void res
          .writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' })
          .end(layers);
      case 'slow':
        return void setTimeout(() => !res.destroyed && res.writeHead(404).end(MARKER), 10_000);
      case 'realm-elsewhere':
        return void res
          .writeHead(401, {
            'www-authenticate': `Bearer realm="http://${elsewhere}/token?m=${MARKER}",service="${MARKER}"`,
          })
          .end(errorBody);
      case 'redirect-elsewhere':
        return void res.writeHead(307, { location: `http://${elsewhere}/${MARKER}` }).end();
      case 'https-to-http':
        return void res
          .writeHead(307, { location: `http://${hosts['https-to-http']}/v2/downgrade-target/${MARKER}` })
          .end();
      case 'garbage-auth':
        return void res
          .writeHead(401, { 'www-authenticate': `Bearer ${MARKER}${'a'.repeat(8000)}` })
          .end(errorBody);
      case 'error-body':
        return void res.writeHead(500, { 'content-type': 'application/json' }).end(errorBody);
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end(errorBody);
  };

  const scenarios: Scenario[] = [
    'gzip-bomb',
    'oversized-manifest',
    'many-layers',
    'slow',
    'realm-elsewhere',
    'redirect-elsewhere',
    'https-to-http',
    'garbage-auth',
    'error-body',
  ];
  const servers: Server[] = [];
  for (const scenario of scenarios) {
    const plain: Server = createHttp(handle);
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    hosts[scenario] = `127.0.0.1:${(plain.address() as AddressInfo).port}`;
    servers.push(plain);
  }

  const dir = mkdtempSync(join(tmpdir(), 'hostile-'));
  const [key, caFile] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'],
      ...['-keyout', key, '-out', caFile, '-days', '1', '-subj', '/CN=127.0.0.1'],
      ...['-addext', 'subjectAltName=IP:127.0.0.1'],
    ],
    { stdio: 'ignore' },
  );
  // redirects to plain HTTP: the scenario's own plain port (a downgrade that must not be followed)
  const tls = createHttps({ key: readFileSync(key), cert: readFileSync(caFile) }, handle);
  await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
  return {
    hosts,
    tlsHost: `127.0.0.1:${(tls.address() as AddressInfo).port}`,
    caFile,
    forbiddenConnections: () => forbidden,
    downgradedRequests: () => downgraded,
    close: () => {
      for (const s of [...servers, tls]) {
        s.close();
        s.closeAllConnections();
      }
      recorder.close();
    },
  };
}
