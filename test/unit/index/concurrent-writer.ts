import { workerData } from 'node:worker_threads';
import { SqliteIndex } from '../../../src/index/index.ts';
import { digestOf, newAttestation } from './attestation-fixtures.ts';

/** Worker body for the two-writer test: records `count` attestations tagged `writer` in `path`. */
const { path, writer, count } = workerData as { path: string; writer: string; count: number };
const index = new SqliteIndex({ path, busyTimeoutMs: 10_000 });
for (let i = 0; i < count; i++) {
  await index.addAttestation(
    newAttestation({
      name: `${writer}-${i}`,
      sig: `${writer}-${i}`,
      digests: [digestOf('shared')],
      createdAt: new Date(1_000 + i),
    }),
  );
  await index.putRunRecord({
    uid: `uid-${writer}-${i}`,
    run: { kind: 'TaskRun', namespace: 'tenant-a', name: `${writer}-${i}` },
    status: 'attested',
    attempts: 0,
    updatedAt: new Date(1_000 + i),
  });
}
await index.close();
