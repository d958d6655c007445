import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigReloader } from '../../../src/cli/config-reloader.ts';
import { LiveConfig, parseConfig } from '../../../src/config/index.ts';
import { createLogger, createMetrics } from '../../../src/observability/index.ts';

/** A config file, a reloader on a fake timer, and what it logged. */
function setup(initial: Record<string, string>, options: { fromInitial?: Record<string, string> } = {}) {
  const file = join(mkdtempSync(join(tmpdir(), 'reloader-')), 'config.json');
  const write = (data: Record<string, string>) => writeFileSync(file, JSON.stringify(data));
  write(options.fromInitial ? { ...initial, 'log.level': 'error' } : initial);
  const live = new LiveConfig(parseConfig({ ...initial, 'http.port': '9999' }));
  const lines: string[] = [];
  const metrics = createMetrics();
  const timer: { tick?: () => void; ms?: number; stopped: boolean } = { stopped: false };
  const reloader = new ConfigReloader({
    path: file,
    overrides: { 'http.port': '9999' },
    live,
    intervalSeconds: 5,
    ...(options.fromInitial ? { initial: options.fromInitial } : {}),
    logger: createLogger({ destination: { write: (l: string) => void lines.push(l) } }),
    metrics,
    every: (fn, ms) => {
      timer.tick = fn;
      timer.ms = ms;
      return () => {
        timer.stopped = true;
      };
    },
  });
  reloader.start();
  const reloads = async (result: string) =>
    (await metrics.configReloads.get()).values.find((v) => v.labels.result === result)?.value;
  return { write, live, reloader, timer, logs: () => lines.join(''), metrics, reloads };
}

describe('ConfigReloader', () => {
  it('polls every interval and applies a changed live key to the view parts read', async () => {
    const s = setup({ 'artifacts.taskrun.format': 'slsa/v1.0' });
    const view = s.live.view;
    expect(s.timer.ms).toBe(5000);
    s.write({ 'artifacts.taskrun.format': 'slsa/v0.2', 'builder.id': 'https://b.example/x' });
    expect(view.taskrun.format).toBe('slsa/v1.0');
    s.timer.tick?.();
    expect(view.taskrun.format).toBe('slsa/v0.2');
    expect(view.builderId).toBe('https://b.example/x');
    expect(view.http.port).toBe(9999);
    expect(await s.reloads('applied')).toBe(1);
    expect(s.reloader.status()).toEqual({ ok: true });
    s.timer.tick?.(); // unchanged: nothing counted
    expect(await s.reloads('applied')).toBe(1);
    s.reloader.stop();
    expect(s.timer.stopped).toBe(true);
  });

  it('rejects an invalid change loudly, naming the key, and keeps the last good config', async () => {
    const s = setup({ 'artifacts.taskrun.format': 'slsa/v0.2' });
    s.write({ 'artifacts.taskrun.format': 'slsa/v1.0', 'transparency.enabled': 'yes' });
    s.timer.tick?.();
    expect(s.live.view.taskrun.format).toBe('slsa/v0.2');
    expect(await s.reloads('invalid')).toBe(1);
    expect(s.logs()).toContain('transparency.enabled');
    const status = s.reloader.status();
    expect(status.ok).toBe(true);
    expect(status.message).toMatch(/rejected.*transparency\.enabled/);
    s.timer.tick?.(); // the same bad content is reported once
    expect(await s.reloads('invalid')).toBe(1);
    s.write({ 'artifacts.taskrun.format': 'slsa/v1.0' });
    s.timer.tick?.();
    expect(s.live.view.taskrun.format).toBe('slsa/v1.0');
    expect(s.reloader.status()).toEqual({ ok: true });
  });

  it('keeps a changed restart-only key at its running value and reports it', async () => {
    const s = setup({ 'controller.workers': '2' });
    s.write({ 'controller.workers': '8', 'attestation.max-attempts': '3' });
    s.timer.tick?.();
    expect(s.live.view.workers).toBe(2);
    expect(s.live.view.maxAttempts).toBe(3);
    expect(s.reloader.status().message).toContain('needs restart for changed keys: controller.workers');
    expect((await s.metrics.configRestartNeeded.get()).values[0]?.value).toBe(1);
    expect(s.logs()).toContain('controller.workers');
    s.write({ 'controller.workers': '2', 'attestation.max-attempts': '3' });
    s.timer.tick?.();
    expect(s.reloader.status()).toEqual({ ok: true });
    expect((await s.metrics.configRestartNeeded.get()).values[0]?.value).toBe(0);
  });

  it('reports a source that is not a key map once and keeps the config', async () => {
    const s = setup({ 'log.level': 'warn' });
    s.write(['not', 'a', 'map'] as unknown as Record<string, string>);
    s.timer.tick?.();
    s.timer.tick?.();
    expect(await s.reloads('invalid')).toBe(1);
    expect(s.live.view.logLevel).toBe('warn');
    expect(s.reloader.status().message).toContain('expected a map');
  });

  it('applies at start a change made after the running config was read (initial)', () => {
    const s = setup({}, { fromInitial: {} });
    expect(s.live.view.logLevel).toBe('error');
  });
});
