import type { RunClaims } from '../index/index.ts';
import type { Fence } from '../model/index.ts';
import type { Logger } from '../observability/index.ts';
import type { ClaimFact } from './decision.ts';

/** A claim this replica holds: renewed in the background until released. */
export interface HeldClaim {
  /** what every write under the claim carries: refused once the claim has moved on */
  readonly fence: Fence;
  /** Stops renewing and gives the claim up; never throws (a failed release lapses with its lease). */
  release(): Promise<void>;
}

export type ClaimAnswer = { fact: ClaimFact; held?: HeldClaim };

export interface RunClaimerOptions {
  claims: Pick<RunClaims, 'claimRun' | 'renewClaim' | 'releaseClaim'>;
  /** who this replica is in the index: unique per process (a restarted replica is a new owner) */
  owner: string;
  /** the lease, read per claim (`observer.claim-lease-seconds` is live) */
  leaseMs: () => number;
  /** the clock the remaining lease is measured with; default Date.now (the index's clock) */
  now?: () => number;
}

/** The shortest wait before asking again for a claim another replica holds. */
export const MIN_CLAIM_WAIT_MS = 250;

/**
 * Takes, renews and releases this replica's claims on runs (src/index/run-claims.ts). A held claim
 * is renewed every third of the lease while the attempt runs, so only a replica that stopped (killed,
 * partitioned from the index) loses it; one whose renewal is refused has lost the claim to another
 * and says so in the log: its writes are then refused by their fence (storage is idempotent by
 * content, so finishing adds no layer). A claim another owner holds is answered with the time left
 * on its lease.
 */
export class RunClaimer {
  readonly #o: Required<RunClaimerOptions>;

  constructor(options: RunClaimerOptions) {
    this.#o = { now: Date.now, ...options };
  }

  get owner(): string {
    return this.#o.owner;
  }

  async take(uid: string, log: Logger): Promise<ClaimAnswer> {
    const leaseMs = this.#o.leaseMs();
    const answer = await this.#o.claims.claimRun(uid, this.#o.owner, leaseMs);
    if (answer.held)
      return {
        fact: { held: true },
        held: this.#keep(uid, { owner: this.#o.owner, fence: answer.fence }, leaseMs, log),
      };
    const expiresAt = answer.expiresAt?.getTime() ?? 0;
    const retryInMs = Math.min(leaseMs, Math.max(MIN_CLAIM_WAIT_MS, expiresAt - this.#o.now()));
    return { fact: { held: false, retryInMs } };
  }

  #keep(uid: string, fence: Fence, leaseMs: number, log: Logger): HeldClaim {
    const { claims, owner } = this.#o;
    let renewing: Promise<unknown> = Promise.resolve();
    const timer = setInterval(() => {
      renewing = claims.renewClaim(uid, fence, leaseMs).then(
        (kept) => {
          if (kept) return;
          clearInterval(timer);
          log.warn({ owner }, 'claim on the run was taken by another replica during the attempt');
        },
        (err: unknown) => log.warn({ err: (err as Error).message }, 'renewing the claim on the run failed'),
      );
    }, leaseMs / 3);
    timer.unref();
    return {
      fence,
      release: async () => {
        clearInterval(timer);
        await renewing;
        try {
          await claims.releaseClaim(uid, owner);
        } catch (err) {
          log.warn({ err: (err as Error).message }, 'releasing the claim failed; it lapses with its lease');
        }
      },
    };
  }
}
