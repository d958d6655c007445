import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  type KeyAlgorithm,
  KeySigner,
  Pkcs11Key,
  Pkcs11Signer,
  parsePkcs11Uri,
  type Signer,
  signEnvelope,
} from '../src/signing/index.ts';
import { createSoftHsmToken, type TokenKeyType } from '../test/helpers/softhsm.ts';

/**
 * PKCS#11 signing (SoftHSM2, keys generated in a token under .local/env/softhsm/bench) against an
 * in-memory key of the same type, in the same run: whole envelopes per second with `concurrency`
 * signatures in flight (as the workers do) and the latency of one envelope (p50/p99). The token
 * is a software HSM on the same machine: the numbers show our overhead (digest, session pool,
 * the libuv hop), not a network HSM's round trip. Reports only; asserts nothing.
 */
export interface Pkcs11BenchRow {
  algorithm: KeyAlgorithm;
  concurrency: number;
  memoryPerSecond: number;
  tokenPerSecond: number;
  /** token ÷ memory */
  ratio: number;
  tokenP50Ms: number;
  tokenP99Ms: number;
  memoryP50Ms: number;
}

const KEYS: {
  type: TokenKeyType;
  object: string;
  id: string;
  memory: () => KeyObject;
  algorithm: KeyAlgorithm;
}[] = [
  {
    type: 'EC:prime256v1',
    object: 'p256',
    id: '01',
    algorithm: 'ecdsa-p256-sha256',
    memory: () => ec('P-256'),
  },
  {
    type: 'EC:secp384r1',
    object: 'p384',
    id: '02',
    algorithm: 'ecdsa-p384-sha384',
    memory: () => ec('P-384'),
  },
  {
    type: 'rsa:2048',
    object: 'rsa',
    id: '03',
    algorithm: 'rsa-pkcs1v15-sha256',
    memory: () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
  },
  {
    type: 'EC:edwards25519',
    object: 'ed25519',
    id: '04',
    algorithm: 'ed25519',
    memory: () => generateKeyPairSync('ed25519').privateKey,
  },
];

function ec(namedCurve: string): KeyObject {
  return generateKeyPairSync('ec', { namedCurve }).privateKey;
}

/** ~4 KiB, the size of a TaskRun's SLSA v1 statement */
const PAYLOAD = Buffer.from(JSON.stringify({ statement: 'x'.repeat(4000) }));
const TYPE = 'application/vnd.in-toto+json';

async function measure(signer: Signer, concurrency: number, durationMs: number) {
  const latencies: number[] = [];
  const start = performance.now();
  const lane = async () => {
    while (performance.now() - start < durationMs) {
      const t = performance.now();
      await signEnvelope(PAYLOAD, TYPE, signer);
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { perSecond: latencies.length / seconds, p50: at(0.5), p99: at(0.99) };
}

export async function runPkcs11Bench(options: { durationMs?: number } = {}): Promise<Pkcs11BenchRow[]> {
  const durationMs = options.durationMs ?? 700;
  const token = createSoftHsmToken('bench');
  process.env.SOFTHSM2_CONF = token.conf;
  const rows: Pkcs11BenchRow[] = [];
  for (const k of KEYS) {
    token.generate(k.type, k.object, k.id);
    const key = new Pkcs11Key({ uri: parsePkcs11Uri(token.uri(k.object)), poolSize: 4, readFile });
    const tokenSigner = new Pkcs11Signer(key, await key.open());
    const memorySigner = new KeySigner({ privateKey: k.memory(), algorithm: k.algorithm });
    for (const concurrency of [1, 4]) {
      await measure(tokenSigner, concurrency, 100); // warm-up
      const memory = await measure(memorySigner, concurrency, durationMs);
      const hsm = await measure(tokenSigner, concurrency, durationMs);
      rows.push({
        algorithm: k.algorithm,
        concurrency,
        memoryPerSecond: memory.perSecond,
        tokenPerSecond: hsm.perSecond,
        ratio: hsm.perSecond / memory.perSecond,
        tokenP50Ms: hsm.p50,
        tokenP99Ms: hsm.p99,
        memoryP50Ms: memory.p50,
      });
    }
    key.close();
  }
  return rows;
}

export function formatPkcs11Table(rows: Pkcs11BenchRow[]): string {
  const header = [
    'algorithm',
    'in flight',
    'memory env/s',
    'PKCS#11 env/s',
    'ratio',
    'PKCS#11 p50/p99 ms',
    'memory p50 ms',
  ];
  const body = rows.map((r) => [
    r.algorithm,
    String(r.concurrency),
    r.memoryPerSecond.toFixed(0),
    r.tokenPerSecond.toFixed(0),
    r.ratio.toFixed(2),
    `${r.tokenP50Ms.toFixed(2)}/${r.tokenP99Ms.toFixed(2)}`,
    r.memoryP50Ms.toFixed(2),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => (row[c] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
