/**
 * Chains' informer filter (pkg/reconciler/filter.go): a run is ours when `spec.managedBy` is
 * empty or `tekton.dev/pipeline`, or one of the configured `filter.managed-by` values.
 */
export function managedByAccepted(
  run: { spec?: Record<string, unknown> },
  extra: readonly string[],
): boolean {
  const managedBy = run.spec?.managedBy;
  if (managedBy === undefined || managedBy === null || managedBy === '') return true;
  return managedBy === 'tekton.dev/pipeline' || extra.includes(String(managedBy));
}
