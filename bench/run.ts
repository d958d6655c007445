import { formatChecksTable, runChecksBench } from './attestation-checks.ts';
import { runBacklogBench } from './backlog.ts';
import { runDecisionLogBench } from './decision-log.ts';
import { runFairnessBench } from './fairness.ts';
import { runRegistryCostsBench } from './registry-costs.ts';
import { runReplicasBench } from './replicas.ts';
import { formatSigningTable, runSigningBench } from './signing.ts';
import { runSigningDrainBench } from './signing-drain.ts';
import { formatPkcs11Table, runPkcs11Bench } from './signing-pkcs11.ts';
import { runUiBench } from './ui.ts';
import { formatWatchMemoryTable, runWatchMemoryBench } from './watch-memory.ts';

/**
 * `npm run bench [-- NAME [OPTIONS]]`: runs one benchmark by name, or the quick ones (signing, watch
 * memory) when none is named. Add a bench by writing bench/<name>.ts exporting a run function that
 * returns its report, and listing it below. Benches report numbers and ratios against baselines
 * measured in the same run; nothing here asserts on wall-clock time.
 */
const benches: { name: string; title: string; quick: boolean; run: (args: string[]) => Promise<string> }[] = [
  {
    name: 'signing',
    title:
      'signing (envelopes/s vs bare crypto.sign, same payload size; then a SoftHSM2 PKCS#11 key vs an in-memory key)',
    quick: true,
    run: async () =>
      `${formatSigningTable(await runSigningBench())}\n\nPKCS#11 (SoftHSM2) vs in-memory key, 4 KiB payload:\n\n${formatPkcs11Table(await runPkcs11Bench())}`,
  },
  {
    name: 'signing-drain',
    title: 'backlog drain with the file key vs a SoftHSM2 PKCS#11 key, same run (HSM ÷ file, goal ≥ 0.8)',
    quick: false,
    run: runSigningDrainBench,
  },
  {
    name: 'attestation-checks',
    title:
      'attestation checks (subject policy, existence, execution) per TaskRun, local apiserver and registry',
    quick: false,
    run: async () => formatChecksTable(await runChecksBench()),
  },
  {
    name: 'watch-memory',
    title: 'watch memory (heap retained vs an informer-style object cache, same runs)',
    quick: true,
    run: async () => formatWatchMemoryTable(await runWatchMemoryBench()),
  },
  {
    name: 'backlog',
    title: 'backlog drain on the local environment (observer as its own process, vs the machine limits)',
    quick: false,
    run: runBacklogBench,
  },
  {
    name: 'registry-costs',
    title: 'registry costs: CPU of the local registry and of our client per kind of request',
    quick: false,
    run: runRegistryCostsBench,
  },
  {
    name: 'fairness',
    title: "fairness: tenant B's p99 completion→signed while tenant A waits on a slow registry, vs A idle",
    quick: false,
    run: runFairnessBench,
  },
  {
    name: 'replicas',
    title: 'replicas: CPU per attested run with 1 and 3 observers on PostgreSQL, every run attested once',
    quick: false,
    run: runReplicasBench,
  },
  {
    name: 'log',
    title:
      'decision log (SQLite file): a run record with its decision vs alone, proof times at 10^4, 10^5, 10^6 entries',
    quick: false,
    run: runDecisionLogBench,
  },
  {
    name: 'ui',
    title: 'provenance page: load → verified in Chromium, median and p95 (a run with 20 subjects)',
    quick: false,
    run: runUiBench,
  },
];

const [name, ...args] = process.argv.slice(2);
const selected = name ? benches.filter((b) => b.name === name) : benches.filter((b) => b.quick);
if (!selected.length) {
  console.error(`unknown bench "${name}"; one of: ${benches.map((b) => b.name).join(', ')}`);
  process.exit(2);
}
for (const bench of selected) {
  console.log(`\n## ${bench.title}\n`);
  console.log(await bench.run(args));
}
process.exit(0);
