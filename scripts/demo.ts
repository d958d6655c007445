/**
 * npm run demo: the whole path on a local cluster, end to end.
 *  0. installs the Debian packages it needs when missing (test/env/install-deps.sh, as root);
 *  1. brings the local environment up (etcd, a real kube-apiserver — built the first time —,
 *     a registry), or reuses it;
 *  2. stores the throwaway key from keys-example/ in Secret signing-secrets;
 *  3. starts `provenance-observer run` as a child process, as the observer's own identity;
 *  4. pushes an image and completes a TaskRun the way Tekton would;
 *  5. waits for the attestation, verifies it and prints what was attested and where.
 * Exits 0 on success. The environment stays up afterwards (`npm run env:down` stops it).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { STATE_DIR, up } from '../test/env/index.ts';
import { putSigningSecret } from '../test/helpers/observer.ts';
import { completeBuildTaskRun, waitFor, waitForSigned } from '../test/helpers/tekton.ts';
import { pushTestImage } from '../test/helpers/test-image.ts';
import { writeTestCert } from '../test/helpers/tls-cert.ts';

const root = resolve(import.meta.dirname, '..');
const say = (line: string) => console.log(`demo: ${line}`);

async function main(): Promise<void> {
  say('checking the Debian packages the local environment needs (test/env/install-deps.sh)');
  execFileSync('bash', [join(root, 'test/env/install-deps.sh')], { stdio: 'inherit' });
  say('bringing up the local environment (the first time builds kube-apiserver: several minutes)');
  const { env } = await up((line) => say(line));

  const keyPem = readFileSync(join(root, 'keys-example/x509.pem'), 'utf8');
  const publicKeyPem = createPublicKey(createPrivateKey(keyPem))
    .export({ format: 'pem', type: 'spki' })
    .toString();
  await putSigningSecret(env, { 'x509.pem': keyPem, 'cosign.pub': publicKeyPem });
  say(`Secret ${env.observerNamespace}/signing-secrets holds the THROWAWAY key from keys-example/`);

  const dir = join(STATE_DIR, '..', 'demo');
  mkdirSync(dir, { recursive: true });
  const pubFile = join(dir, 'cosign.pub');
  writeFileSync(pubFile, publicKeyPem);
  const apiCert = writeTestCert(dir, 'api'); // throwaway TLS certificate for the lookup API
  const configFile = join(dir, 'config.yaml');
  writeFileSync(
    configFile,
    [
      // deploy/'s recommendation, set explicitly: the defaults are Chains' (in-toto, tekton only)
      'artifacts.taskrun.format: slsa/v1.0',
      'artifacts.taskrun.storage: "tekton,oci"',
      'artifacts.pipelinerun.format: slsa/v1.0',
      'artifacts.pipelinerun.storage: "tekton,oci"',
      `index.path: ${join(dir, 'index.db')}`,
      'http.host: 127.0.0.1',
      'http.port: "18080"',
      'api.host: 127.0.0.1',
      'api.port: "18443"',
      `api.tls-cert-file: ${apiCert.certFile}`,
      `api.tls-key-file: ${apiCert.keyFile}`,
      `storage.oci.insecure-registries: "${env.registry}"`,
      'storage.oci.allowed-private-registries: "127.0.0.1"',
      'signing.secret.poll-seconds: "2"',
      'log.level: error',
    ].join('\n'),
  );
  const observer = startObserverProcess(configFile, env.kubeconfigs.observer, env.observerNamespace);
  try {
    await waitFor(
      'the observer to be ready',
      async () =>
        (await fetch('http://127.0.0.1:18080/readyz').catch(() => undefined))?.ok ? true : undefined,
      60_000,
    );
    say(
      'observer ready: probes and metrics on http://127.0.0.1:18080, lookup API on https://127.0.0.1:18443',
    );

    const repository = 'demo/app';
    const image = await pushTestImage(env.registry, repository, 'v1');
    say(`pushed image ${image.ref} (${image.digest})`);

    const name = await completeBuildTaskRun(image, {
      name: `demo-build-${Date.now()}`,
      params: [{ name: 'IMAGE', value: image.ref }],
    });
    say(`TaskRun tenant-a/${name} completed (as Tekton would report it)`);

    const run = await waitForSigned('TaskRun', 'tenant-a', name);
    const uid = run.metadata.uid;
    const statement = JSON.parse(
      Buffer.from(
        run.metadata.annotations?.[`chains.tekton.dev/payload-taskrun-${uid}`] ?? '',
        'base64',
      ).toString(),
    );
    say(
      `attested: ${statement.predicateType} for ${statement.subject.map((s: { name: string; digest: { sha256: string } }) => `${s.name}@sha256:${s.digest.sha256}`).join(', ')}`,
    );
    say(
      `stored: ${env.registry}/${repository}:${image.digest.replace(':', '-')}.att, and annotations chains.tekton.dev/{payload,signature}-taskrun-${uid}`,
    );

    say('verifying with provenance-observer verify --image:');
    const out = execFileSync(
      process.execPath,
      [
        join(root, 'bin/provenance-observer.js'),
        'verify',
        '--image',
        image.ref,
        '--key',
        pubFile,
        '--insecure-registry',
      ],
      { encoding: 'utf8' },
    );
    for (const line of out.trimEnd().split('\n')) say(`  ${line}`);
    say(
      `done. Lookup API: curl --cacert ${apiCert.certFile} https://127.0.0.1:18443/api/v1/keys; stop the environment with npm run env:down`,
    );
  } finally {
    observer.kill('SIGTERM');
  }
}

function startObserverProcess(configFile: string, kubeconfig: string, namespace: string): ChildProcess {
  const child = spawn(
    process.execPath,
    [join(root, 'bin/provenance-observer.js'), 'run', '--config', configFile, '--kubeconfig', kubeconfig],
    {
      env: { ...process.env, POD_NAMESPACE: namespace },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  child.on('exit', (code, signal) => {
    if (code) say(`observer exited with code ${code}${signal ? ` (${signal})` : ''}`);
  });
  return child;
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`demo: FAILED: ${(err as Error).message}`);
    process.exit(1);
  },
);
