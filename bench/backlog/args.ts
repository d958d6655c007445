/** Options of `npm run bench -- backlog [--runs N] [--workers W] [--rounds R]`. */
export interface BacklogOptions {
  /** completed TaskRuns waiting when the observer starts (default 10,000); N/10 is measured too */
  runs: number;
  /** controller.workers for the measured observer; undefined = the default a user gets from deploy/ */
  workers?: number;
  /** seconds between fresh runs during the drain (default 2) */
  freshEverySeconds: number;
  /** --quick: skip the N/10 measurement (while iterating; the report's growth line needs it) */
  quick?: boolean;
  /** --drain-minutes M: measure each drain for at most M minutes (a partial drain of a large N) */
  drainMinutes?: number;
  /** --rounds R: measure the whole bench R times (default 1); a goal is met when every round meets it */
  rounds: number;
  /**
   * --profile-round: after the rounds, one more drain of N with the observer under --cpu-prof, for
   * where its CPU goes in the drain window by function (not in the goals: profiling costs CPU)
   */
  profileRound?: boolean;
  /** --set key=value (repeatable): observer configuration beyond the defaults, for comparisons */
  config?: Record<string, string>;
}

export function parseBacklogArgs(args: readonly string[]): BacklogOptions {
  const options: BacklogOptions = { runs: 10_000, freshEverySeconds: 2, rounds: 1 };
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    if (flag === '--quick') {
      options.quick = true;
      continue;
    }
    if (flag === '--profile-round') {
      options.profileRound = true;
      continue;
    }
    if (flag === '--set') {
      const [key, ...rest] = (args[++i] ?? '').split('=');
      if (!key || rest.length === 0) throw new Error('backlog: --set needs key=value');
      options.config = { ...options.config, [key]: rest.join('=') };
      continue;
    }
    const value = Number(args[i + 1]);
    if (!['--runs', '--workers', '--fresh-every', '--drain-minutes', '--rounds'].includes(flag))
      throw new Error(
        `backlog: unknown option ${flag} (--runs N, --workers W, --fresh-every S, --drain-minutes M, --rounds R, --set key=value, --quick, --profile-round)`,
      );
    if (!Number.isInteger(value) || value < 1) throw new Error(`backlog: ${flag} needs a whole number ≥ 1`);
    if (flag === '--runs') options.runs = value;
    else if (flag === '--workers') options.workers = value;
    else if (flag === '--drain-minutes') options.drainMinutes = value;
    else if (flag === '--rounds') options.rounds = value;
    else options.freshEverySeconds = value;
    i++;
  }
  return options;
}
