import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Daemon, freePort, httpStatus, startDaemon, waitReady } from './processes.ts';

export interface EtcdProcess {
  daemon: Daemon;
  /** client URL, http://127.0.0.1:<port> */
  url: string;
}

/** Starts a single-member etcd on loopback ports with its data under `<stateDir>/etcd`; waits for /health. */
export async function startEtcd(stateDir: string, logsDir: string): Promise<EtcdProcess> {
  const dataDir = join(stateDir, 'etcd');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const daemon = await startDaemon(
    'etcd',
    'etcd',
    [
      '--name=local',
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=local=${peer}`,
      '--log-level=warn',
    ],
    join(logsDir, 'etcd.log'),
  );
  await waitReady(daemon, async () => (await httpStatus(`${url}/health`)) === 200, 30_000);
  return { daemon, url };
}
