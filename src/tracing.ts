/**
 * OpenTelemetry tracing for the process, when OTEL_EXPORTER_OTLP_ENDPOINT is set. `main.ts`
 * imports this module only then, so without it no OpenTelemetry package is even loaded and no
 * request pays for a span. Spans are batched and exported over OTLP/HTTP; the W3C trace context
 * of an incoming `traceparent` is continued.
 */
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace-node';
import type { Plugin } from 'graphql-yoga';
import { useTracing } from './http/tracing.ts';
import { traceStatements } from './infra/database/tracing.ts';

export interface TracingSettings {
  /** OTLP/HTTP traces endpoint, e.g. http://localhost:4318/v1/traces. */
  url: string;
  /** The body's encoding; both are OTLP/HTTP on the same port. */
  protocol: 'http/protobuf' | 'http/json';
  /** `service.name` of every span. */
  serviceName: string;
}

export interface Tracing {
  /** The request spans, for `createServer` (its `tracing` dependency). */
  plugin: (options: { quietPaths: readonly string[] }) => Plugin;
  /** Exports every span ended so far. */
  flush(): Promise<void>;
  /** Exports what is left and stops tracing. */
  shutdown(): Promise<void>;
}

export function startTracing({ url, protocol, serviceName }: TracingSettings): Tracing {
  // Other OTEL_EXPORTER_OTLP_* settings (headers, timeout, compression) are read by the exporter.
  const exporter: SpanExporter = protocol === 'http/json' ? new JsonExporter({ url }) : new ProtobufExporter({ url });
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    // Batches, sent in the background (OTEL_BSP_* tune them); a request never waits for export.
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  // Process-wide: AsyncLocalStorage carries the active span across awaits, W3C headers carry it in.
  provider.register();
  const stopStatements = traceStatements(provider);
  const tracer = provider.getTracer('customer-gateway');
  return {
    plugin: ({ quietPaths }) => useTracing({ tracer, quietPaths }),
    flush: () => provider.forceFlush(),
    async shutdown() {
      stopStatements();
      await provider.shutdown();
    },
  };
}
