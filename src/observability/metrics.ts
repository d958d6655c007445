import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { processMemoryBudget } from '../cache/index.ts';
import type { RunKind } from '../tekton/index.ts';

/**
 * Every metric of the service, declared once on our own registry and present at zero from start.
 *
 * Chains' counter names (`watcher_*`, docs/metrics.md in tektoncd/chains) are kept so existing
 * dashboards work; our own metrics are prefixed `provenance_observer_`.
 */
export type ChainsErrorType = 'payload_creation' | 'marshal_payload' | 'signing' | 'storage' | 'tlog';
const CHAINS_ERROR_TYPES: ChainsErrorType[] = [
  'payload_creation',
  'marshal_payload',
  'signing',
  'storage',
  'tlog',
];
const KINDS: RunKind[] = ['TaskRun', 'PipelineRun'];
/** the reasons the reconciler reports (src/reconcile/) */
const TAMPER_REASONS = ['signed_without_record', 'signed_annotation_changed'];
const P = 'provenance_observer_';
/** the `reconciler` label of the knative-style work-queue metrics */
export const RECONCILER = 'provenance-observer';

function chainsCounters(registry: Registry, kind: 'taskrun' | 'pipelinerun') {
  const c = (name: string, help: string) =>
    new Counter({ name: `watcher_${kind}_${name}`, help, registers: [registry] });
  const failures = new Counter({
    name: `watcher_${kind}_signing_failures_total`,
    help: `${kind} signing failures by Chains error type`,
    labelNames: ['error_type'] as const,
    registers: [registry],
  });
  for (const t of CHAINS_ERROR_TYPES) failures.inc({ error_type: t }, 0);
  return {
    signCreated: c('sign_created_total', `signatures created for ${kind}s (per artifact)`),
    payloadUploaded: c('payload_uploaded_total', `transparency log uploads for ${kind}s`),
    payloadStored: c('payload_stored_total', `payloads stored for ${kind}s (per backend)`),
    markedSigned: c('marked_signed_total', `${kind}s marked signed`),
    signingFailures: failures,
  };
}

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: P });
  const m = {
    registry,
    ...runMetrics(registry),
    ...workMetrics(registry),
    ...serviceMetrics(registry),
    ...diskMetrics(registry),
    ...requestMetrics(registry),
  };
  atZero(m);
  return m;
}

/** Every labelled series a dashboard or alert reads, present at zero from start. */
function atZero(
  m: ReturnType<typeof runMetrics> &
    ReturnType<typeof workMetrics> &
    ReturnType<typeof serviceMetrics> &
    ReturnType<typeof diskMetrics>,
): void {
  for (const lane of ['live', 'backlog']) m.laneDepth.set({ lane }, 0);
  m.workQueueDepth.set({ reconciler: RECONCILER }, 0);
  for (const state of ['closed', 'open', 'half_open']) m.registryCircuits.set({ state }, 0);
  for (const what of ['runs', 'captures']) m.indexPruned.inc({ what }, 0);
  for (const what of ['capture', 'attempt']) m.diskShareDeferred.inc({ what }, 0);
  for (const result of ['applied', 'invalid']) m.configReloads.inc({ result }, 0);
  for (const reader of ['registry', 'kube', 'kube-list']) m.memoryBudgetWaits.inc({ reader }, 0);
  for (const step of ['open', 'sign', 'pin']) m.signingTokenErrors.inc({ step }, 0);
  for (const kind of KINDS) {
    m.runsAttested.inc({ kind }, 0);
    m.runsFailed.inc({ kind }, 0);
    m.attemptFailures.inc({ kind }, 0);
    m.fencedWrites.inc({ kind }, 0);
    m.registryWaitExpired.inc({ kind }, 0);
    m.chainsAdopted.inc({ kind }, 0);
    m.oversizedRuns.inc({ kind }, 0);
    // at zero so that increase() in the TamperMismatch alert sees the first mismatch
    for (const reason of TAMPER_REASONS) m.tamperMismatches.inc({ kind, reason }, 0);
  }
  // at zero so that increase() in the IndexSealBroken alert sees the first broken row
  for (const table of ['run_captures', 'run_evidence', 'run_sightings'])
    for (const reason of ['unsealed', 'unknown_key', 'mismatch'])
      m.indexSealFailures.inc({ table, reason }, 0);
  for (const backend of ['tekton', 'oci', 'index'])
    for (const outcome of ['ok', 'error']) m.storeResults.inc({ backend, outcome }, 0);
}

/** What happened to runs and their attestations (Chains' watcher_* counters included). */
function runMetrics(registry: Registry) {
  const kindLabel = { labelNames: ['kind'] as const, registers: [registry] };
  return {
    chains: {
      TaskRun: chainsCounters(registry, 'taskrun'),
      PipelineRun: chainsCounters(registry, 'pipelinerun'),
    },
    runsAttested: new Counter({ name: `${P}runs_attested_total`, help: 'runs attested', ...kindLabel }),
    runsFailed: new Counter({
      name: `${P}runs_failed_total`,
      help: 'runs given up on after the last attempt (signed=failed)',
      ...kindLabel,
    }),
    attemptFailures: new Counter({
      name: `${P}attempt_failures_total`,
      help: 'failed attestation attempts that will be retried',
      ...kindLabel,
    }),
    fencedWrites: new Counter({
      name: `${P}fenced_writes_total`,
      help: 'writes refused because the claim they were made under had moved to another replica (a stale replica)',
      ...kindLabel,
    }),
    registryWaitExpired: new Counter({
      name: `${P}registry_wait_expired_total`,
      help: 'runs failed with registry_unavailable after waiting attestation.registry-wait-seconds for registries that stayed down',
      ...kindLabel,
    }),
    attestDuration: new Histogram({
      name: `${P}attest_duration_seconds`,
      help: 'time to attest one run, from dequeue to marked',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      ...kindLabel,
    }),
    stageDuration: new Histogram({
      name: `${P}stage_duration_seconds`,
      help: 'time per attestation stage (extract, sign, store) and storage backend',
      labelNames: ['stage', 'backend'] as const,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    completionToAttested: new Histogram({
      name: `${P}completion_to_attested_seconds`,
      help: "from a run's status.completionTime to the moment it is marked signed",
      buckets: [0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600],
      ...kindLabel,
    }),
    storeResults: new Counter({
      name: `${P}store_results_total`,
      help: 'store attempts by backend and outcome',
      labelNames: ['backend', 'outcome'] as const,
      registers: [registry],
    }),
    inputsSkipped: new Counter({
      name: `${P}inputs_skipped_total`,
      help: 'type-hinted results and step images left out of provenance, by reason',
      labelNames: ['kind', 'reason'] as const,
      registers: [registry],
    }),
    indexSealFailures: new Counter({
      name: `${P}index_seal_failures_total`,
      help: 'index rows (captured runs, Pod evidence, child sightings) that failed their seal and were not used: inserted or edited by someone other than the observer, or sealed under a key no longer held',
      labelNames: ['table', 'reason'] as const,
      registers: [registry],
    }),
    tamperMismatches: new Counter({
      name: `${P}tamper_mismatches_total`,
      help: 'runs whose chains.tekton.dev annotations disagree with the index',
      labelNames: ['kind', 'reason'] as const,
      registers: [registry],
    }),
    chainsAdopted: new Counter({
      name: `${P}chains_adopted_total`,
      help: "runs Tekton Chains signed, adopted into the index (Chains' signature verified with a configured Chains key)",
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
  };
}

/** The work queue, the reconciler and the watch (knative's controller stats, as Chains exports them). */
function workMetrics(registry: Registry) {
  const kindLabel = { labelNames: ['kind'] as const, registers: [registry] };
  /** set by the composition root to the run source's clock; evaluated at scrape time */
  let watchAge: (kind: RunKind) => number = () => 0;
  /** set by the composition root to the controller: ms since the oldest unattested run completed */
  let oldestUnattested: () => number = () => 0;
  return {
    oldestUnattestedRunAge: new Gauge({
      name: `${P}oldest_unattested_run_age_seconds`,
      help: 'age (since completion) of the oldest finished run seen and not yet attested or given up on; 0 when none',
      registers: [registry],
      collect() {
        this.set(oldestUnattested() / 1000);
      },
    }),
    /** Where oldest_unattested_run_age_seconds reads from (the controller's outstanding runs). */
    setOldestUnattestedSource(source: () => number): void {
      oldestUnattested = source;
    },
    queueDepth: new Gauge({
      name: `${P}queue_depth`,
      help: 'run keys waiting in the work queue',
      registers: [registry],
    }),
    laneDepth: new Gauge({
      name: `${P}queue_lane_depth`,
      help: 'run keys waiting per lane: live (seen on the watch, served first) and backlog (found by a list)',
      labelNames: ['lane'] as const,
      registers: [registry],
    }),
    backlogLimit: new Gauge({
      name: `${P}backlog_concurrency_limit`,
      help: 'backlog attempts allowed at once now (follows CPU headroom while more attempts finish more a second, else attempt latency; cut while fresh runs take over 0.8 s; at most controller.backlog-workers)',
      registers: [registry],
    }),
    // knative's controller stats reporter (knative.dev/pkg controller/stats_reporter.go), which
    // Chains exports under its `watcher_` prefix; the `key` tag is left out (one series per run)
    workQueueDepth: new Gauge({
      name: 'watcher_work_queue_depth',
      help: 'Depth of the work queue',
      labelNames: ['reconciler'] as const,
      registers: [registry],
    }),
    reconcileCount: new Counter({
      name: 'watcher_reconcile_count',
      help: 'Number of reconcile operations',
      labelNames: ['reconciler', 'success'] as const,
      registers: [registry],
    }),
    reconcileLatency: new Histogram({
      name: 'watcher_reconcile_latency',
      help: 'Latency of reconcile operations (milliseconds)',
      labelNames: ['reconciler', 'success'] as const,
      buckets: [10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000],
      registers: [registry],
    }),
    watchLastEventAge: new Gauge({
      name: `${P}watch_last_event_age_seconds`,
      help: 'seconds since the list/watch of a kind last heard from the apiserver (event, bookmark or list page)',
      ...kindLabel,
      collect() {
        for (const kind of KINDS) this.set({ kind }, watchAge(kind) / 1000);
      },
    }),
    /** Where watch_last_event_age_seconds reads from: milliseconds since the last event per kind. */
    setWatchAgeSource(source: (kind: RunKind) => number): void {
      watchAge = source;
    },
  };
}

/** The index volume's free space and its fair shares (reconcile/disk-share.ts). */
function diskMetrics(registry: Registry) {
  return {
    diskShareDeferred: new Counter({
      name: `${P}disk_share_deferred_total`,
      help: "runs not captured or not attested (deferred, retried when space frees) because the index volume's free space is under index.free-space-floor-percent and their namespace is over its fair share",
      labelNames: ['what'] as const,
      registers: [registry],
    }),
    indexVolumeFree: new Gauge({
      name: `${P}index_volume_free_bytes`,
      help: "free bytes of the index's volume at the last space check, less the bytes reserved by attempts in flight; 0 until known",
      registers: [registry],
    }),
    indexVolumeFloor: new Gauge({
      name: `${P}index_volume_floor_bytes`,
      help: 'the free-space floor of the index volume in bytes (index.free-space-floor-percent of its size); 0 when off or unknown',
      registers: [registry],
    }),
  };
}

/** The index, the registries, the signing key and the configuration. */
/** Requests the observer sends, by kind: what a run costs the servers behind it. */
function requestMetrics(registry: Registry) {
  return {
    registryRequests: new Counter({
      name: `${P}registry_requests_total`,
      help: 'OCI registry requests by method, kind (manifest, blob, upload, tags, referrers, token) and HTTP status (0 = no response, circuit_open = not sent)',
      labelNames: ['method', 'kind', 'status'] as const,
      registers: [registry],
    }),
    kubeRequests: new Counter({
      name: `${P}kube_requests_total`,
      help: 'apiserver requests sent, by verb (get, list, watch, create, patch, update, delete) and resource (with its subresource)',
      labelNames: ['verb', 'resource'] as const,
      registers: [registry],
    }),
  };
}

function serviceMetrics(registry: Registry) {
  return {
    indexPruned: new Counter({
      name: `${P}index_pruned_total`,
      help: 'index records removed by retention: runs deleted past index.retention-days, and captured copies no longer needed',
      labelNames: ['what'] as const,
      registers: [registry],
    }),
    indexDiskFull: new Counter({
      name: `${P}index_disk_full_total`,
      help: 'index writes refused because its disk (or SQLite size cap) is full; nothing was written or marked signed',
      registers: [registry],
    }),
    foreignLayers: new Counter({
      name: `${P}foreign_layers_total`,
      help: 'entries of our media type at a tag that were left unread, once per layer: unannotated (not written by us), oversized (larger than an envelope of the payload), not_an_envelope',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    oversizedRuns: new Counter({
      name: `${P}oversized_runs_total`,
      help: 'runs seen in a list or watch over the size read whole (2 MiB of JSON): handled from their metadata, reported with a RunTooLarge Event, not attested',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    memoryBudgetWaits: new Counter({
      name: `${P}memory_budget_waits_total`,
      help: 'reads of tenant-influenced bytes (registry answers, apiserver objects, list items) that waited for the memory budget',
      labelNames: ['reader'] as const,
      registers: [registry],
    }),
    memoryBudgetHeld: new Gauge({
      name: `${P}memory_budget_held_bytes`,
      help: 'bytes of the memory budget held by reads in flight (the budget is a share of the V8 heap limit)',
      registers: [registry],
      collect() {
        this.set(processMemoryBudget.heldBytes);
      },
    }),
    registryCircuits: new Gauge({
      name: `${P}registry_circuits`,
      help: 'registry hosts by circuit-breaker state (open = failing fast, half_open = probing)',
      labelNames: ['state'] as const,
      registers: [registry],
    }),
    keyReady: new Gauge({
      name: `${P}signing_key_ready`,
      help: '1 when a signing key is loaded',
      registers: [registry],
    }),
    signingTokenErrors: new Counter({
      name: `${P}signing_token_errors_total`,
      help: 'PKCS#11 token failures by step: open (module, token, login, key), sign (C_Sign), pin (the PIN file); each fails its attempt as retryable',
      labelNames: ['step'] as const,
      registers: [registry],
    }),
    configReloads: new Counter({
      name: `${P}config_reload_total`,
      help: 'changes of the mounted configuration seen: applied, or invalid (rejected, last good config kept)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    configRestartNeeded: new Gauge({
      name: `${P}config_restart_needed`,
      help: '1 when a changed config key can only take effect after a restart (the running value stays)',
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
