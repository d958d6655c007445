import { describe, expect, it } from 'vitest';
import { memoryLine } from '../../../bench/backlog/memory-line.ts';

const M = 1048576;

describe('memoryLine', () => {
  it('splits the RSS into the V8 heap, its spaces, external memory and the rest', () => {
    const text = [
      '# HELP provenance_observer_process_resident_memory_bytes Resident memory size in bytes.',
      `provenance_observer_process_resident_memory_bytes ${150 * M}`,
      `provenance_observer_nodejs_heap_size_total_bytes ${60 * M}`,
      `provenance_observer_nodejs_heap_size_used_bytes ${40 * M}`,
      `provenance_observer_nodejs_external_memory_bytes ${10 * M}`,
      `provenance_observer_nodejs_heap_space_size_total_bytes{space="new"} ${8 * M}`,
      `provenance_observer_nodejs_heap_space_size_total_bytes{space="old"} ${44 * M}`,
      `provenance_observer_nodejs_heap_space_size_used_bytes{space="old"} ${30 * M}`,
    ].join('\n');
    expect(memoryLine(text)).toBe(
      'RSS 150.0 MiB: V8 heap 60.0 reserved (40.0 in use; new 8.0, old 44.0, code n/a, large_object n/a), external 10.0, the rest 80.0 (code, stacks, native allocations)',
    );
  });

  it('says n/a for what the metrics do not hold', () => {
    expect(memoryLine('')).toMatch(/^RSS n\/a MiB: V8 heap n\/a reserved .* the rest n\/a/);
  });
});
