import {
  faultHookFromEnv,
  loadConfig,
  loadKubeConfig,
  readConfigSource,
  replicaName,
} from '../config/index.ts';
import { createLogger, createMetrics } from '../observability/index.ts';
import { parseFlags } from './args.ts';
import { startObserver } from './observer.ts';

const USAGE = `usage: provenance-observer run [--config <dir|file>] [--kubeconfig <file>] [--set key=value]...

--config      a mounted ConfigMap directory (one file per key) or a YAML/JSON map; Chains'
              chains-config keys plus ours (docs/configuration.md)
--kubeconfig  default: KUBECONFIG, ~/.kube/config, then the in-cluster service account;
              certificates and tokens only (exec/auth-provider plugins are refused)
--set         overrides one config key (repeatable), e.g. --set http.port=9000`;

export async function runCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(
    args,
    { config: { type: 'string' }, kubeconfig: { type: 'string' }, set: { type: 'string', multiple: true } },
    USAGE,
  );
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const overrides = Object.fromEntries(
    ((values.set as string[] | undefined) ?? []).map((kv) => {
      const at = kv.indexOf('=');
      return at < 0 ? [kv, ''] : [kv.slice(0, at), kv.slice(at + 1)];
    }),
  );
  const path = values.config as string | undefined;
  const source = path ? readConfigSource(path) : undefined;
  const config = loadConfig({ path, source, overrides });
  const logger = createLogger({ level: config.logLevel });
  const observer = await startObserver({
    config,
    kubeAccess: loadKubeConfig({ path: values.kubeconfig as string | undefined }),
    logger,
    metrics: createMetrics(),
    fault: faultHookFromEnv(),
    instance: replicaName(),
    reloadFrom: path
      ? { path, overrides, initial: source, namespace: process.env.POD_NAMESPACE || undefined }
      : undefined,
  });
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      logger.info({ signal }, 'stopping');
      resolve();
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
  await observer.stop();
  return 0;
}
