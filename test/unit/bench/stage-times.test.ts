import { describe, expect, it } from 'vitest';
import { stageMeansLine, stageTotals } from '../../../bench/backlog/stage-times.ts';

const P = 'provenance_observer';
const metrics = (attempt: [number, number], store: [number, number], sign: [number, number]) =>
  [
    `# HELP ${P}_attest_duration_seconds time to attest one run`,
    `${P}_attest_duration_seconds_bucket{le="1",kind="TaskRun"} 3`,
    `${P}_attest_duration_seconds_sum{kind="TaskRun"} ${attempt[0]}`,
    `${P}_attest_duration_seconds_count{kind="TaskRun"} ${attempt[1]}`,
    `${P}_stage_duration_seconds_sum{stage="store",backend="oci"} ${store[0]}`,
    `${P}_stage_duration_seconds_count{stage="store",backend="oci"} ${store[1]}`,
    `${P}_stage_duration_seconds_sum{stage="sign",backend=""} ${sign[0]}`,
    `${P}_stage_duration_seconds_count{stage="sign",backend=""} ${sign[1]}`,
  ].join('\n');

describe('attempt time by stage (bench/backlog/stage-times.ts)', () => {
  it('means per observation between two readings, largest first, leaving out stages that did not run', () => {
    const before = stageTotals(metrics([1, 2], [0.5, 2], [0.01, 2]));
    const after = stageTotals(metrics([3.4, 5], [2.3, 5], [0.01, 2]));
    expect(stageMeansLine(before, after)).toBe('attempt 800 ms (3), store oci 600 ms (3)');
  });
});
