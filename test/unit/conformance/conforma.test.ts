/**
 * Conforma's first gate (ec-cli schema check) and the provenance rules of its release policy
 * (conforma/policy policy/release/{attestation_type,slsa_provenance_available,slsa_build_*,
 * slsa_source_version_controlled,provenance_materials}/*.rego; the schemas are ec-cli's
 * pkg/schema/, see their $comment), evaluated in TypeScript over the Konflux-style
 * docker-build PipelineRun fixture. Rule ids are Conforma's `package.short_name`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { parseImageDigestRef } from '../../../src/artifacts/index.ts';
import { buildProvenance, type ProvenanceOptions } from '../../../src/formats/index.ts';
import { inputFor, RUNS, runFiles } from '../formats/golden-helpers.ts';

const SCHEMAS = join(import.meta.dirname, '../../fixtures/schemas');
const ajv = new Ajv2019({ strict: false, allErrors: true });
addFormats.default(ajv);
const validateV02 = ajv.compile(JSON.parse(readFileSync(join(SCHEMAS, 'slsa_provenance_v0.2.json'), 'utf8')));
const validateV1 = ajv.compile(JSON.parse(readFileSync(join(SCHEMAS, 'slsa_provenance_v1.json'), 'utf8')));

const options: ProvenanceOptions = {
  format: 'slsa/v0.2',
  builderId: 'https://tekton.dev/chains/v2',
  buildType: 'https://tekton.dev/chains/v2/slsa',
  deepInspection: true,
};
const konflux = buildProvenance(inputFor(RUNS, 'konflux-docker-build.yaml'), options);
const statement = JSON.parse(new TextDecoder().decode(konflux.payload));
type Task = {
  name: string;
  ref: { resolver?: string; params?: { name: string; value: string }[] };
  status?: string;
  steps?: { environment: { image: string } }[];
  results?: { name: string; value: string }[];
};
const tasks: Task[] = statement.predicate.buildConfig.tasks;

describe('ec-cli schema check (pkg/schema)', () => {
  it('the Konflux PipelineRun statement passes slsa_provenance_v0.2.json', () => {
    expect(validateV02(statement), JSON.stringify(validateV02.errors)).toBe(true);
  });
  it('rejects a statement with an upper-case digest (the schema can fail)', () => {
    const bad = structuredClone(statement);
    bad.subject[0].digest.sha256 = 'A'.repeat(64);
    expect(validateV02(bad)).toBe(false);
  });
  // Our own runs only: Chains' test data uses non-hex "commits" (`sha:taskrun`, `x123`) that we, like
  // Chains, pass through unvalidated, and ec-cli's DigestSet pattern rejects them (docs/compatibility.md).
  it('every v1.0 and v0.2 statement of our own runs passes the schemas', () => {
    for (const dir of [RUNS]) {
      for (const file of runFiles(dir)) {
        const p = buildProvenance(inputFor(dir, file), { ...options, format: 'slsa/v1.0' });
        const s = JSON.parse(new TextDecoder().decode(p.payload));
        expect(validateV1(s), `${file}: ${JSON.stringify(validateV1.errors)}`).toBe(true);
        const old = JSON.parse(
          new TextDecoder().decode(buildProvenance(inputFor(dir, file), options).payload),
        );
        if (old.subject.length > 0)
          expect(validateV02(old), `${file}: ${JSON.stringify(validateV02.errors)}`).toBe(true);
      }
    }
  });
});

describe('Conforma release policy rules over the Konflux-style PipelineRun (v0.2)', () => {
  it('attestation_type.known_attestation_type / slsa_provenance_available.attestation_predicate_type_accepted', () => {
    expect(statement._type).toBe('https://in-toto.io/Statement/v0.1');
    expect(statement.predicateType).toBe('https://slsa.dev/provenance/v0.2');
  });
  it('attestation_type.pipelinerun_attestation_found (buildType tekton.dev/v1/PipelineRun, buildFinishedOn present)', () => {
    expect(statement.predicate.buildType).toBe('tekton.dev/v1/PipelineRun');
    expect(statement.predicate.metadata.buildFinishedOn).toMatch(/Z$/);
  });
  it('slsa_build_build_service.slsa_builder_id_found / slsa_builder_id_accepted', () => {
    expect(statement.predicate.builder.id).toBe('https://tekton.dev/chains/v2');
  });
  it('slsa_build_scripted_build.subject_build_task_matches: every subject is a build task IMAGE_URL@IMAGE_DIGEST or IMAGES entry', () => {
    const built = new Set<string>();
    for (const t of tasks) {
      const r = Object.fromEntries((t.results ?? []).map((x) => [x.name, String(x.value).trim()]));
      const add = (ref: string) => {
        const p = parseImageDigestRef(ref);
        if (p.ok) built.add(`${p.repository}@${p.digest}`);
      };
      if (r.IMAGE_URL && r.IMAGE_DIGEST) add(`${r.IMAGE_URL}@${r.IMAGE_DIGEST}`);
      for (const e of (r.IMAGES ?? '').split(/[,\n]/)) if (e.trim()) add(e.trim());
    }
    expect(statement.subject.length).toBeGreaterThan(0);
    for (const s of statement.subject) expect(built).toContain(`${s.name}@sha256:${s.digest.sha256}`);
  });
  it('slsa_build_scripted_build.build_task_image_results_found / build_script_used: build tasks have non-empty steps', () => {
    const buildTasks = tasks.filter((t) => t.results?.some((r) => r.name.endsWith('IMAGE_URL')));
    expect(buildTasks.length).toBeGreaterThan(0);
    for (const t of buildTasks) expect(t.steps?.length).toBeGreaterThan(0);
  });
  it('slsa_source_version_controlled.materials_format_okay / _uri_is_git_repo / _include_git_sha', () => {
    const git = statement.predicate.materials.filter((m: { digest?: { sha1?: string } }) => m.digest?.sha1);
    expect(git.length).toBeGreaterThan(0);
    for (const m of git) {
      expect(m.uri).toMatch(/^git\+/);
      expect(m.digest.sha1).toMatch(/^[a-f0-9]{40}$/);
    }
  });
  it('provenance_materials.git_clone_source_matches_provenance', () => {
    const clone = tasks.find((t) => t.results?.some((r) => r.name === 'commit'));
    const r = Object.fromEntries((clone?.results ?? []).map((x) => [x.name, x.value]));
    expect(statement.predicate.materials).toContainEqual({
      uri: `git+${r.url}.git`,
      digest: { sha1: r.commit },
    });
  });
  it('tasks.pipeline_has_tasks / successful_pipeline_tasks', () => {
    expect(tasks.length).toBeGreaterThan(0);
    for (const t of tasks) expect(t.status).toBe('Succeeded');
  });
  it('trusted_task.pinned / tasks.pinned_task_refs: every ref is a bundles ref pinned by digest', () => {
    for (const t of tasks) {
      expect(t.ref.resolver).toBe('bundles');
      const bundle = t.ref.params?.find((p) => p.name === 'bundle')?.value ?? '';
      expect(bundle).toMatch(/:[\w.-]+@sha256:[a-f0-9]{64}$/);
    }
  });
  it('tasks.required_tasks_found needs task labels: tekton.dev/task and build_type are in invocation.environment.labels', () => {
    const labels = tasks.map(
      (t) =>
        (t as unknown as { invocation: { environment: { labels: Record<string, string> } } }).invocation
          .environment.labels,
    );
    expect(labels.map((l) => l['tekton.dev/task'])).toEqual([
      'git-clone-oci-ta',
      'buildah-remote-oci-ta',
      'buildah-remote-oci-ta',
      'build-image-index',
    ]);
    expect(labels.some((l) => l['build.appstudio.redhat.com/build_type'] === 'docker')).toBe(true);
  });
});
