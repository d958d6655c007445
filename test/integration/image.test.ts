import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNTIME } from '../../scripts/image/layout.ts';
import { RegistryClient } from '../../src/oci/index.ts';
import { freePort, type LocalEnv, loadLocalEnv, STATE_DIR } from '../env/index.ts';
import { recommendedArtifactSettings } from '../helpers/deploy-settings.ts';
import { putSigningSecret } from '../helpers/observer.ts';
import { completeBuildTaskRun, waitFor, waitForSigned } from '../helpers/tekton.ts';
import { pushTestImage } from '../helpers/test-image.ts';

// The image `npm run image` builds, for real: built from the commit (or reused when this commit's
// image is already in the local registry), built again to the same digest, unpacked with umoci and
// run as uid 65532 in a chroot against the local cluster until /readyz is 200 and a TaskRun is
// attested; its own provenance verifies with `provenance-observer verify --image`.
const exec = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const WORK = join(STATE_DIR, '..', 'image');
const NONROOT = 65532;
const CHROOT = '/usr/sbin/chroot';

interface BuiltImage {
  digest: string;
  layout: string;
  commit: string;
  reference: string;
  sizeBytes: number;
  unpackedBytes: number;
}

/** Runs the image build; `umask` (octal) sets the build's file-creation mask. */
async function buildImage(args: string[], umask?: string): Promise<BuiltImage> {
  const build = [process.execPath, 'scripts/image/build.ts', ...args];
  const [command, ...rest] = umask ? ['sh', '-c', `umask ${umask} && exec "$@"`, 'sh', ...build] : build;
  const { stdout } = await exec(command!, rest, { cwd: root, maxBuffer: 1 << 24 });
  return JSON.parse(stdout) as BuiltImage;
}

/** This commit's image from an earlier build, if the registry still holds it. */
async function reusable(env: LocalEnv): Promise<BuiltImage | undefined> {
  const file = join(WORK, 'image.json');
  if (!existsSync(file)) return undefined;
  const image = JSON.parse(readFileSync(file, 'utf8')) as BuiltImage;
  const head = (await exec('git', ['-C', root, 'rev-parse', 'HEAD'])).stdout.trim();
  if (image.commit !== head || !image.reference?.startsWith(`${env.registry}/`)) return undefined;
  const [repository] = image.reference.slice(env.registry.length + 1).split('@');
  const client = new RegistryClient({ registry: env.registry, insecure: true });
  return (await client.getManifest(repository!, image.digest).catch(() => undefined)) ? image : undefined;
}

describe('the image npm run image builds', () => {
  let env: LocalEnv;
  let image: BuiltImage;
  let observer: ChildProcess | undefined;
  const bundle = join(WORK, 'bundle');
  const log: string[] = [];

  beforeAll(async () => {
    env = loadLocalEnv();
    image = (await reusable(env)) ?? (await buildImage(['--work', WORK]));
    console.log(
      `image ${image.reference}: ${(image.sizeBytes / 2 ** 20).toFixed(1)} MiB compressed, ${(image.unpackedBytes / 2 ** 20).toFixed(1)} MiB unpacked`,
    );
  }, 900_000);
  afterAll(() => {
    observer?.kill('SIGTERM');
    rmSync(bundle, { recursive: true, force: true });
  });

  it('is reproducible: the same commit builds the same digest again, under a private umask (077) too', async () => {
    // the files copied in take their modes from the umask; the layers must not (nor may the image
    // become one its unprivileged user cannot read)
    const again = await buildImage(['--no-push', '--work', join(WORK, '..', 'image-again')], '077');
    expect(again.commit).toBe(image.commit);
    expect(again.digest).toBe(image.digest);
    rmSync(join(WORK, '..', 'image-again'), { recursive: true, force: true });
  }, 900_000);

  it('says what the Dockerfile says: user, environment, entrypoint, and the same root filesystem script', () => {
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    const final = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(final).toContain(`USER ${RUNTIME.User}`);
    expect(final).toContain(`ENV ${RUNTIME.Env.join(' ')}`);
    expect(final).toContain(`WORKDIR ${RUNTIME.WorkingDir}`);
    expect(final).toContain(`ENTRYPOINT ${JSON.stringify(RUNTIME.Entrypoint).replaceAll(',', ', ')}`);
    expect(final).toContain(`CMD ${JSON.stringify(RUNTIME.Cmd).replaceAll(',', ', ')}`);
    expect(dockerfile).toContain('scripts/image/rootfs.sh /rootfs');
  });

  it('runs its entrypoint as uid 65532 in a chroot until /readyz is 200 and a TaskRun is attested', async () => {
    rmSync(bundle, { recursive: true, force: true });
    await exec('umoci', ['unpack', '--image', image.layout, bundle]);
    const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as RuntimeSpec;
    expect(spec.process.user).toMatchObject({ uid: NONROOT, gid: NONROOT });
    expect(spec.process.args).toEqual([...RUNTIME.Entrypoint, ...RUNTIME.Cmd]);
    const rootfs = join(bundle, 'rootfs');
    const port = await freePort();
    mountLikeThePod(rootfs, env, port);
    await putSigningSecret(env, {
      'x509.pem': readFileSync(join(root, 'keys-example/x509.pem'), 'utf8'),
      'cosign.pub': readFileSync(join(root, 'keys-example/cosign.pub'), 'utf8'),
    });

    const apiserver = new URL(env.apiserver);
    observer = spawn(CHROOT, [`--userspec=${NONROOT}:${NONROOT}`, rootfs, ...spec.process.args], {
      env: {
        ...Object.fromEntries(spec.process.env.map((e) => e.split(/=(.*)/s).slice(0, 2))),
        POD_NAMESPACE: env.observerNamespace,
        KUBERNETES_SERVICE_HOST: apiserver.hostname,
        KUBERNETES_SERVICE_PORT: apiserver.port,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    observer.stdout?.on('data', (b: Buffer) => log.push(b.toString()));
    observer.stderr?.on('data', (b: Buffer) => log.push(b.toString()));
    const exited = new Promise((r) => observer?.once('exit', r));

    await waitFor(
      '/readyz 200 from the observer in the chroot',
      async () => {
        if (observer?.exitCode !== null) throw new Error(`observer exited: ${log.join('')}`);
        const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
        return res?.status === 200 ? true : undefined;
      },
      120_000,
    );
    const pushed = await pushTestImage(env.registry, `image-test/app-${Date.now()}`, 'v1');
    const name = await completeBuildTaskRun(pushed, { name: `image-${Date.now()}` });
    const run = await waitForSigned('TaskRun', 'tenant-a', name);
    expect(run.metadata.annotations?.['chains.tekton.dev/signed']).toBe('true');
    expect(log.join('')).not.toContain('PRIVATE KEY');
    observer.kill('SIGTERM');
    await exited;
  }, 300_000);

  it('carries the compiled PKCS#11 binding: pkcs11js loads as uid 65532 in the chroot and reaches dlopen', async () => {
    const rootfs = join(bundle, 'rootfs');
    if (!existsSync(rootfs)) await exec('umoci', ['unpack', '--image', image.layout, bundle]);
    const probe = `const { PKCS11 } = require('/app/node_modules/pkcs11js');
      try { new PKCS11().load('/nonexistent/libvendor-pkcs11.so'); console.log('loaded?'); }
      catch (err) { console.log('load error:', err.message); }`;
    const { stdout } = await exec(CHROOT, [
      `--userspec=${NONROOT}:${NONROOT}`,
      rootfs,
      '/usr/local/bin/node',
      '-e',
      probe,
    ]);
    // the compiled part is there and runs: the error is the module's dlopen, not a missing binding
    expect(stdout).toMatch(/^load error: .*libvendor-pkcs11\.so/);
    expect(readdirSync(join(rootfs, 'app/node_modules/pkcs11js/build'))).toEqual(['Release']);
  });

  it('keeps its root filesystem read-only for uid 65532 (writable: the index volume and /tmp)', async () => {
    const rootfs = join(bundle, 'rootfs');
    const write = (path: string) =>
      exec(
        CHROOT,
        [
          `--userspec=${NONROOT}:${NONROOT}`,
          rootfs,
          'node',
          '-e',
          `require('node:fs').writeFileSync(${JSON.stringify(path)}, 'x')`,
        ],
        { env: { PATH: '/usr/local/bin' } },
      ).then(
        () => 'written',
        (err: { stderr: string }) => (err.stderr.includes('EACCES') ? 'EACCES' : err.stderr),
      );
    for (const path of ['/app/x', '/etc/x', '/usr/local/bin/x', '/x', '/home/nonroot/x'])
      expect(await write(path), path).toBe('EACCES');
    expect(await write('/tmp/x')).toBe('written');
    expect(await write('/var/lib/provenance-observer/x')).toBe('written');
  });

  it('carries its own signed provenance, which provenance-observer verify --image accepts', async () => {
    const { stdout } = await exec(
      process.execPath,
      [
        'bin/provenance-observer.js',
        'verify',
        '--key',
        'keys-example/cosign.pub',
        '--image',
        image.reference,
        '--insecure-registry',
      ],
      { cwd: root },
    );
    expect(stdout).toContain('verified');
    const statement = JSON.parse(readFileSync(join(WORK, 'provenance.json'), 'utf8'));
    expect(statement.subject[0].digest.sha256).toBe(image.digest.replace('sha256:', ''));
    const deps = statement.predicate.buildDefinition.resolvedDependencies as {
      name: string;
      digest: Record<string, string>;
    }[];
    expect(deps.find((d) => d.name === 'source')?.digest.gitCommit).toBe(image.commit);
    expect(deps.map((d) => d.name)).toEqual(
      expect.arrayContaining(['package-lock.json', 'node', 'libc6', 'ca-certificates', 'tzdata']),
    );
  });
});

interface RuntimeSpec {
  process: { user: { uid: number; gid: number }; args: string[]; env: string[] };
}

/**
 * What the Deployment mounts, written into the unpacked root filesystem: the ConfigMap as a directory
 * (one file per key), the service-account token, namespace and CA, and the index volume owned by 65532.
 */
function mountLikeThePod(rootfs: string, env: LocalEnv, port: number): void {
  const config = join(rootfs, 'etc/provenance-observer/config');
  const settings: Record<string, string> = {
    ...recommendedArtifactSettings(),
    'index.path': '/var/lib/provenance-observer/index.db',
    'http.host': '127.0.0.1',
    'http.port': String(port),
    'storage.oci.insecure-registries': env.registry,
    'signing.secret.poll-seconds': '1',
  };
  // as the kubelet mounts them: files 0644 in directories anyone may enter (a ConfigMap's and the
  // service account's defaultMode), whatever umask this test runs under
  const mounted = (path: string, content: string | Buffer) => {
    writeFileSync(path, content);
    chmodSync(path, 0o644);
  };
  for (const [key, value] of Object.entries(settings)) mounted(join(config, key), value);
  const sa = join(rootfs, 'var/run/secrets/kubernetes.io/serviceaccount');
  mkdirSync(sa, { recursive: true });
  for (let dir = sa; dir !== join(rootfs, 'var'); dir = dirname(dir)) chmodSync(dir, 0o755);
  mounted(join(sa, 'token'), env.tokens.observer);
  mounted(join(sa, 'namespace'), env.observerNamespace);
  mounted(join(sa, 'ca.crt'), readFileSync(apiserverCa(env)));
  chownSync(join(rootfs, 'var/lib/provenance-observer'), NONROOT, NONROOT);
}

/** The apiserver's self-signed serving certificate (with its CA), which the in-cluster config trusts. */
function apiserverCa(env: LocalEnv): string {
  return join(env.logsDir, '..', 'apiserver', 'certs', 'apiserver.crt');
}
