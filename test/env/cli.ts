import { down, LOGS_DIR, status, up } from './env.ts';
import { ENV_FILE } from './local-env.ts';

/**
 * `node test/env/cli.ts up|down|status` (npm run env:up / env:down).
 *   up      start etcd, kube-apiserver, PostgreSQL, two registries and the token server, or reuse running ones
 *   down    stop them by PID and remove .local/env (the cached kube-apiserver binary stays)
 *   status  exit 0 when the environment is up and healthy, 1 otherwise
 */
const log = (line: string) => console.log(`env: ${line}`);

async function main(command: string | undefined): Promise<number> {
  switch (command) {
    case 'up': {
      const result = await up(log);
      if (result.reused) log(`reusing the running environment (${ENV_FILE})`);
      else {
        const build =
          result.buildMs > 0 ? `, of which kube-apiserver build ${(result.buildMs / 1000).toFixed(1)} s` : '';
        log(`up in ${(result.totalMs / 1000).toFixed(1)} s${build}`);
      }
      log(
        `apiserver ${result.env.apiserver}, registry ${result.env.registry}, token registry ${result.env.tokenRegistry.address}, postgres ${new URL(result.env.postgresUrl).host}`,
      );
      log(`env file ${ENV_FILE}, logs ${result.env.logsDir}`);
      return 0;
    }
    case 'down':
      await down();
      log('stopped');
      return 0;
    case 'status': {
      const s = await status();
      if (s.running) log(`running (started by ${s.owner}): apiserver ${s.env?.apiserver}, logs ${LOGS_DIR}`);
      else log(`not running: ${s.problems.join('; ')}`);
      return s.running ? 0 : 1;
    }
    default:
      console.error('usage: node test/env/cli.ts up|down|status');
      return 2;
  }
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`env: ${err.message}`);
    process.exit(1);
  },
);
