import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { type Daemon, freePort, httpStatus, startDaemon, stopDaemon, waitReady } from './processes.ts';

export interface PrometheusProcess {
  daemon: Daemon;
  /** http://127.0.0.1:<port> */
  url: string;
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  /** data, config and log live here (e.g. under .local) */
  dir: string;
  /** the `prometheus.yml` contents (scrape_configs, rule_files relative to `dir`) */
  config: object;
  /** extra files written into `dir` before start (rule files) */
  files?: Record<string, string>;
}

/**
 * Starts Debian's `prometheus` (package `prometheus`) on a free loopback port with its TSDB under
 * `<dir>/data`; waits for /-/ready. The caller stops it with `stop()` (this PID only).
 */
export async function startPrometheus(opts: PrometheusOptions): Promise<PrometheusProcess> {
  const { dir } = opts;
  mkdirSync(join(dir, 'data'), { recursive: true });
  for (const [name, text] of Object.entries(opts.files ?? {})) writeFileSync(join(dir, name), text);
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, stringify(opts.config));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const daemon = await startDaemon(
    'prometheus',
    'prometheus',
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    join(dir, 'prometheus.log'),
    configFile,
  );
  await waitReady(daemon, async () => (await httpStatus(`${url}/-/ready`)) === 200, 60_000);
  return { daemon, url, stop: () => stopDaemon(daemon) };
}
