/**
 * Tracing off costs nothing: nothing the process loads on its own reaches an OpenTelemetry
 * package. The tracing modules are reached only through main.ts's dynamic `import()`, taken when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set (esbuild makes that a chunk loaded only then, too).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../../src');
const TRACING = /^(@opentelemetry\/|@prisma\/instrumentation)/;

/** What a module loads when it is loaded: its static imports that are not types alone. */
function staticImportsOf(file: string): string[] {
  const text = readFileSync(path.join(SRC, file), 'utf8');
  return [...text.matchAll(/^(?:import|export)(?! type )[^'"]*?from '([^']+)'|^import '([^']+)'/gm)].map(([, from, bare]) => {
    const target = (from ?? bare)!;
    return target.startsWith('.') ? path.relative(SRC, path.resolve(path.dirname(path.join(SRC, file)), target)) : target;
  });
}

/** Every module and package a file loads, through its static imports. */
function loadedBy(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (target: string) => {
    if (seen.has(target)) return;
    seen.add(target);
    if (target.endsWith('.ts') && !target.startsWith('..')) for (const next of staticImportsOf(target)) visit(next);
  };
  visit(entry);
  return seen;
}

describe('with tracing off', () => {
  for (const entry of ['main.ts', 'server.ts']) {
    it(`${entry} loads no OpenTelemetry package nor any tracing module`, () => {
      const loaded = [...loadedBy(entry)];
      expect(loaded.length).toBeGreaterThan(20);
      expect(loaded.filter((target) => TRACING.test(target) || /(^|\/)tracing\.ts$/.test(target))).toEqual([]);
    });
  }

  it('main.ts reaches tracing through a dynamic import alone', () => {
    expect(readFileSync(path.join(SRC, 'main.ts'), 'utf8')).toMatch(/await import\('\.\/tracing\.ts'\)/);
    expect([...loadedBy('tracing.ts')].filter((target) => TRACING.test(target))).toEqual(
      expect.arrayContaining(['@opentelemetry/sdk-trace-node', '@opentelemetry/api', '@opentelemetry/instrumentation-pg', '@prisma/instrumentation']),
    );
  });
});
