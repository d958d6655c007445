import type { Dispatcher } from 'undici';
import {
  type BudgetReader,
  type MemoryBudget,
  processMemoryBudget,
  type Reservation,
  UNDECLARED_FIRST_BYTES,
} from '../../cache/index.ts';

/**
 * Byte caps on apiserver answers read whole. A run or Pod is written by tenants, so its size is
 * theirs to choose up to what the apiserver stores (1.5 MiB of JSON in etcd by default); the cap
 * leaves room over that and bounds a misbehaving server.
 */
export const OBJECT_ANSWER_LIMIT = 4 * 1024 * 1024;
/** Error answers (a metav1.Status): 64 KiB. */
export const ERROR_ANSWER_LIMIT = 64 * 1024;

/** An answer larger than its cap; the body was destroyed unread past it. */
export class KubeAnswerTooLarge extends Error {
  constructor(limit: number) {
    super(`apiserver answer larger than ${limit} bytes`);
    this.name = 'KubeAnswerTooLarge';
  }
}

/**
 * The whole body as text, at most `limit` bytes, within the memory budget: the declared length is
 * reserved before reading, else a first 64 KiB grown as the body is read (an apiserver sends most
 * objects chunked); held while it is read and parsed by `use`. A declared
 * length over the cap fails unread; a body that grows past it is destroyed at the chunk that does.
 */
export async function readWithinBudget<T>(
  res: Pick<Dispatcher.ResponseData, 'body' | 'headers'>,
  limit: number,
  use: (text: string) => T,
  options: { reader?: BudgetReader; signal?: AbortSignal; budget?: MemoryBudget } = {},
): Promise<T> {
  const declared = Number(res.headers['content-length'] ?? Number.NaN);
  if (declared > limit) {
    res.body.destroy();
    throw new KubeAnswerTooLarge(limit);
  }
  const budget = options.budget ?? processMemoryBudget;
  const reader = options.reader ?? 'kube';
  // a declared length is reserved whole; otherwise a first slice, grown as the body is read
  let held: Reservation = await budget
    .reserve(declared >= 0 ? declared : Math.min(limit, UNDECLARED_FIRST_BYTES), reader, options.signal)
    .catch((err: unknown) => {
      res.body.destroy();
      throw err;
    });
  try {
    const text = await readCappedText(res.body, limit, async (total) => {
      if (total > held.bytes)
        held = await budget.grow(held, Math.min(limit, 2 * total), reader, options.signal);
    });
    return use(text);
  } finally {
    held.release();
  }
}

/** An error answer's text, at most ERROR_ANSWER_LIMIT bytes (the rest is dropped). */
export async function readSmall(body: Dispatcher.ResponseData['body']): Promise<string> {
  try {
    return await readCappedText(body, ERROR_ANSWER_LIMIT);
  } catch (err) {
    if (err instanceof KubeAnswerTooLarge) return '';
    throw err;
  }
}

async function readCappedText(
  body: Dispatcher.ResponseData['body'],
  limit: number,
  read?: (total: number) => Promise<void>,
): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += (chunk as Buffer).length;
    if (total > limit) {
      body.destroy();
      throw new KubeAnswerTooLarge(limit);
    }
    chunks.push(chunk as Buffer);
    await read?.(total);
  }
  return Buffer.concat(chunks, total).toString('utf8');
}
