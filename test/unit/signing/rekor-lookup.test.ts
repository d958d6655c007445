import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LazyTransparencyLog, loadX509Pem, signEnvelope } from '../../../src/signing/index.ts';
import { type RekorStandIn, startRekorStandIn } from '../../helpers/rekor-stand-in.ts';

const TYPE = 'application/vnd.in-toto+json';
const payload = Buffer.from('{"_type":"https://in-toto.io/Statement/v1","subject":[]}');
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signer = loadX509Pem(
  new TextEncoder().encode(privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()),
  { namespace: 'ns', name: 's', entry: 'x509.pem' },
);

/** A server answering every request with `status` and `body` (what a broken Rekor or proxy sends). */
async function answering(status: number, body: string | Buffer): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('findEnvelope (Rekor v1 look-up)', () => {
  let rekor: RekorStandIn | undefined;
  let server: Server | undefined;
  afterEach(async () => {
    await rekor?.close();
    server?.close();
    rekor = server = undefined;
  });

  it('finds nothing in an empty log, and the first of two entries of ours when a race made two', async () => {
    rekor = await startRekorStandIn();
    const log = new LazyTransparencyLog({ url: rekor.url, retry: 0 });
    expect(await log.findEnvelope(payload, TYPE, signer)).toBeUndefined();
    const first = await signEnvelope(payload, TYPE, signer);
    const second = await signEnvelope(payload, TYPE, signer);
    await log.uploadEnvelope(first.envelope, first.signature, signer.publicKeyPem);
    await log.uploadEnvelope(second.envelope, second.signature, signer.publicKeyPem);
    expect(rekor.created.count).toBe(2);
    const found = await log.findEnvelope(payload, TYPE, signer);
    expect(found?.entry.logIndex).toBe(0);
    expect(Buffer.from(found?.signature ?? []).toString('base64')).toBe(first.envelope.signatures[0]?.sig);
  });

  it.each([
    ['a body that is not JSON', 200, 'Service Unavailable<html>', /answer is not JSON/],
    ['an index answer that is not a list', 200, '{"uuids":[]}', /not a list of UUIDs/],
    ['a 502', 502, '{}', /answered 502/],
    ['a body over its cap', 200, Buffer.alloc(70 * 1024, 0x20), /larger than/],
  ])('fails as tlog (retryable), naming the log, on %s', async (_what, status, body, reason) => {
    const broken = await answering(status, body);
    server = broken.server;
    const err = await new LazyTransparencyLog({ url: broken.url }).findEnvelope(payload, TYPE, signer).then(
      () => new Error('expected a rejection'),
      (e: Error) => e,
    );
    expect(err).toMatchObject({ code: 'tlog', retryable: true });
    expect(err.message).toContain(`looking up the payload in transparency log ${broken.url}`);
    expect(err.message).toMatch(reason);
    expect(err.message).not.toContain('Service Unavailable');
  });

  it('fails as tlog when the log does not answer in time or refuses the connection', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    server = silent;
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    await expect(
      new LazyTransparencyLog({ url, timeoutMs: 200 }).findEnvelope(payload, TYPE, signer),
    ).rejects.toMatchObject({ code: 'tlog', message: expect.stringContaining('no answer in 200 ms') });
    silent.closeAllConnections();
    await new Promise((resolve) => silent.close(resolve));
    server = undefined;
    await expect(new LazyTransparencyLog({ url }).findEnvelope(payload, TYPE, signer)).rejects.toMatchObject({
      code: 'tlog',
      message: expect.stringContaining('connection failed'),
    });
  });
});
