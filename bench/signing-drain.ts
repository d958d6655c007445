import { generateKeyPairSync } from 'node:crypto';
import { daemonPids, kubeConfigFor, loadLocalEnv, up } from '../test/env/index.ts';
import { asInContainer, deploySettings } from '../test/helpers/deploy-settings.ts';
import { putSigningSecret } from '../test/helpers/observer.ts';
import { createSoftHsmToken } from '../test/helpers/softhsm.ts';
import { buildObserver } from './backlog/observer-process.ts';
import { reuseConnections } from './backlog/reuse-connections.ts';
import { runScenario, type ScenarioResult } from './backlog/scenario.ts';

/**
 * `npm run bench -- signing-drain [--runs N] [--repeat R]`: the backlog drain (bench/backlog's
 * scenario: the observer as its own process over N completed TaskRuns, fresh runs every 2 s) with
 * the file key (an ECDSA P-256 key in the signing Secret) and with an ECDSA P-256 key inside a
 * SoftHSM2 token (`signers.kms.kmsref: pkcs11:…`, signer `kms` for every artifact), in the same run,
 * R times, alternating which goes first; prints each pair's drain rates and the ratio
 * HSM ÷ file (issue 22's goal: ≥ 0.8). Defaults: N = 500, R = 2. Reports only; asserts nothing.
 */
export async function runSigningDrainBench(args: readonly string[]): Promise<string> {
  const { runs, repeat } = parseArgs(args);
  await up((line) => console.error(`[env] ${line}`), 'cli');
  const env = loadLocalEnv();
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await putSigningSecret(env, { 'x509.pem': privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() });
  const token = createSoftHsmToken('bench-drain');
  token.generate('EC:prime256v1', 'drain', '01');
  const deploy = deploySettings();
  const servers = daemonPids();
  const setup = {
    pids: Object.fromEntries(['registry', 'kube-apiserver', 'etcd'].map((n) => [n, servers[n] as number])),
    main: buildObserver(),
    nodeOptions: asInContainer(deploy),
    admin: reuseConnections(kubeConfigFor('admin')),
    observer: reuseConnections(kubeConfigFor('observer')),
    observerKubeconfigPath: env.kubeconfigs.observer,
    registry: env.registry,
    freshEverySeconds: 2,
    runs,
    log: (line: string) => console.error(`[signing-drain] ${line}`),
  };
  const file = () => runScenario({ ...setup, observerEnv: deploy.env });
  const hsm = () =>
    runScenario({
      ...setup,
      observerEnv: { ...deploy.env, SOFTHSM2_CONF: token.conf },
      extraConfig: {
        'signers.kms.kmsref': token.uri('drain'),
        'artifacts.taskrun.signer': 'kms',
        'artifacts.pipelinerun.signer': 'kms',
        'artifacts.oci.signer': 'kms',
      },
    });
  const pairs: { file: ScenarioResult; hsm: ScenarioResult; hsmFirst: boolean }[] = [];
  for (let i = 0; i < repeat; i++) {
    const hsmFirst = i % 2 === 1;
    const first = await (hsmFirst ? hsm() : file());
    const second = await (hsmFirst ? file() : hsm());
    pairs.push(hsmFirst ? { hsm: first, file: second, hsmFirst } : { file: first, hsm: second, hsmFirst });
  }
  return formatSigningDrain(pairs);
}

export function formatSigningDrain(
  pairs: { file: ScenarioResult; hsm: ScenarioResult; hsmFirst: boolean }[],
): string {
  const rate = (r: ScenarioResult) =>
    `${r.drainPerSecond.toFixed(1)} (${r.signed}/${r.runs}, ${r.failed} failed)`;
  const rows = pairs.map((p, i) =>
    [
      i + 1,
      p.hsmFirst ? 'HSM' : 'file',
      rate(p.file),
      rate(p.hsm),
      (p.hsm.drainPerSecond / p.file.drainPerSecond).toFixed(2),
      `${p.file.cpuMsPerRun.toFixed(1)} / ${p.hsm.cpuMsPerRun.toFixed(1)}`,
    ].join(' | '),
  );
  return [
    'pair | first | file key drained runs/s | SoftHSM2 key drained runs/s | HSM ÷ file (goal ≥ 0.8) | observer CPU ms/run file / HSM',
    '---|---|---|---|---|---',
    ...rows,
  ].join('\n');
}

function parseArgs(args: readonly string[]): { runs: number; repeat: number } {
  const options = { runs: 500, repeat: 2 };
  for (let i = 0; i < args.length; i += 2) {
    const value = Number(args[i + 1]);
    if (!['--runs', '--repeat'].includes(args[i] ?? '') || !Number.isInteger(value) || value < 1)
      throw new Error(
        `signing-drain: options are --runs N and --repeat R (whole numbers ≥ 1), got ${args[i]}`,
      );
    if (args[i] === '--runs') options.runs = value;
    else options.repeat = value;
  }
  return options;
}
