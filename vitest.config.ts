import { defineConfig } from 'vitest/config';

/**
 * Two projects:
 *   unit         test/unit/**, pure logic, no network, files in parallel
 *   integration  test/integration/**, against the real local environment (test/env) that
 *                test/global-setup.ts brings up once per run (the first run builds kube-apiserver:
 *                minutes), files one after another since they share the cluster and registries.
 * `npx vitest run --project unit` runs only the unit tests and starts nothing.
 */
export default defineConfig({
  test: {
    teardownTimeout: 60_000,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          // scrypt at cosign's N (2^15..2^17) and CLI child processes take seconds of CPU each; the
          // unit project runs beside the integration project on 2 cores, so vitest's 5 s default
          // fails them on a busy machine while they are correct. Timeouts are a bound, not a measure.
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
