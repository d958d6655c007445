import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadKubeConfig } from '../../../src/config/index.ts';
import { KubeConnection, KubeJson } from '../../../src/kube/index.ts';
import { type TestCert, writeTestCert } from '../../helpers/tls-cert.ts';

// A kubeconfig's TLS settings, loaded by config/ and applied by KubeConnection, against a local
// HTTPS server that requires a client certificate and answers with the certificate's CN.
describe('KubeConnection TLS from a kubeconfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kube-tls-'));
  let serverCert: TestCert;
  let clientCert: TestCert;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    serverCert = writeTestCert(dir, 'server');
    clientCert = writeTestCert(dir, 'client');
    server = createServer(
      {
        cert: serverCert.certPem,
        key: readFileSync(serverCert.keyFile),
        ca: clientCert.certPem,
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ cn: peer.subject?.CN, authorization: req.headers.authorization ?? null }));
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const ask = async (cluster: object, user: object = {}) => {
    const path = join(mkdtempSync(join(dir, 'cfg-')), 'config');
    writeFileSync(
      path,
      stringify({
        clusters: [{ name: 'c', cluster: { server: url, ...cluster } }],
        users: [{ name: 'u', user }],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'x',
      }),
    );
    const connection = new KubeConnection({ access: loadKubeConfig({ path }) });
    try {
      return await new KubeJson(connection).send<{ cn: string; authorization: string | null }>(
        'GET',
        '/version',
      );
    } finally {
      await connection.close();
    }
  };
  const clientCertData = () => ({
    'client-certificate-data': b64(clientCert.certPem),
    'client-key-data': b64(readFileSync(clientCert.keyFile, 'utf8')),
  });

  it('trusts certificate-authority-data and presents the client certificate', async () => {
    expect(await ask({ 'certificate-authority-data': b64(serverCert.certPem) }, clientCertData())).toEqual({
      cn: 'client',
      authorization: null,
    });
  });

  it('checks tls-server-name against the server certificate', async () => {
    const ca = { 'certificate-authority-data': b64(serverCert.certPem) };
    expect((await ask({ ...ca, 'tls-server-name': 'localhost' }, clientCertData())).cn).toBe('client');
    await expect(ask({ ...ca, 'tls-server-name': 'kubernetes.default' }, clientCertData())).rejects.toThrow();
  });

  it('refuses a server it cannot verify unless insecure-skip-tls-verify, and sends the token', async () => {
    await expect(ask({}, clientCertData())).rejects.toThrow(/self-signed|certificate/);
    expect(await ask({ 'insecure-skip-tls-verify': true }, { ...clientCertData(), token: 'abc' })).toEqual({
      cn: 'client',
      authorization: 'Bearer abc',
    });
  });
});
