import { formatChecksTable, runChecksBench } from './attestation-checks.ts';
import { formatSigningTable, runSigningBench } from './signing.ts';
import { formatWatchMemoryTable, runWatchMemoryBench } from './watch-memory.ts';

/**
 * `npm run bench`: runs every benchmark and prints its table. Add a bench by writing
 * bench/<name>.ts exporting a run function and a formatter, and listing it below.
 * Benches report numbers; nothing here asserts on wall-clock time.
 */
const benches: { name: string; run: () => Promise<string> }[] = [
  {
    name: 'signing (envelopes/s vs bare crypto.sign, same payload size)',
    run: async () => formatSigningTable(await runSigningBench()),
  },
  {
    name: 'attestation checks (subject policy, existence, execution) per TaskRun, local apiserver and registry',
    run: async () => formatChecksTable(await runChecksBench()),
  },
  {
    name: 'watch memory (heap retained vs an informer-style object cache, same runs)',
    run: async () => formatWatchMemoryTable(await runWatchMemoryBench()),
  },
];

for (const bench of benches) {
  console.log(`\n## ${bench.name}\n`);
  console.log(await bench.run());
}
