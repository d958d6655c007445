import { describe, expect, it } from 'vitest';
import { RegistryClient } from '../../../src/oci/index.ts';

const digest = `sha256:${'a'.repeat(64)}`;
const client = (status: number, seen: string[] = []) =>
  new RegistryClient({
    registry: 'r.test',
    fetch: (async (input: URL | string, init: RequestInit = {}) => {
      seen.push(`${init.method} ${new URL(String(input)).pathname}`);
      return new Response(null, { status });
    }) as typeof fetch,
  });

describe('RegistryClient.headManifest', () => {
  it('HEADs the manifest by digest and returns the definite answers', async () => {
    const seen: string[] = [];
    expect(await client(200, seen).headManifest('team/app', digest)).toBe(200);
    expect(seen).toEqual([`HEAD /v2/team/app/manifests/${digest}`]);
    for (const status of [404, 403, 401] as const)
      expect(await client(status).headManifest('t/a', digest)).toBe(status);
  });
  it('throws for anything else, retryable for 5xx and 429', async () => {
    await expect(client(503).headManifest('t/a', digest)).rejects.toMatchObject({ retryable: true });
    await expect(client(429).headManifest('t/a', digest)).rejects.toMatchObject({ retryable: true });
    await expect(client(400).headManifest('t/a', digest)).rejects.toMatchObject({ retryable: false });
  });
});
