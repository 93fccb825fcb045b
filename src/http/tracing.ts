/**
 * OpenTelemetry spans for each request: the HTTP request (continuing an incoming W3C
 * `traceparent`), GraphQL parse, validate and execute, and a span per resolver of a field that
 * returns objects, where data is read (leaf fields only copy what their parent read). Database
 * statements nest under whichever of them sends them (infra/database/tracing.ts). Neither
 * variables, arguments nor the query text go into spans (any may hold a password).
 *
 * Only loaded when tracing is on (src/tracing.ts): without it, no span is ever made.
 */
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context as OtelContext, type Span, type Tracer } from '@opentelemetry/api';
import { MapperKind, mapSchema } from '@graphql-tools/utils';
import { getNamedType, getOperationAST, isLeafType, type GraphQLSchema, type ResponsePath } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { errorCode } from './graphql-errors.ts';

export interface TracingOptions {
  tracer: Tracer;
  /** Probes hit these every few seconds: they are not traced. */
  quietPaths: readonly string[];
}

const HEADERS = {
  keys: (headers: Headers) => [...headers.keys()],
  get: (headers: Headers, key: string) => headers.get(key) ?? undefined,
};

export function useTracing({ tracer, quietPaths }: TracingOptions): Plugin {
  const requests = new WeakMap<Request, Span>();
  const executions = new WeakMap<object, Span>();
  const traced = new WeakSet<GraphQLSchema>();
  const quiet = new Set(quietPaths);

  return {
    instrumentation: {
      request({ request }, wrapped) {
        const url = new URL(request.url);
        if (quiet.has(url.pathname)) return wrapped();
        const parent = propagation.extract(ROOT_CONTEXT, request.headers, HEADERS);
        const span = tracer.startSpan(
          `${request.method} ${url.pathname}`,
          {
            kind: SpanKind.SERVER,
            attributes: {
              'http.request.method': request.method,
              'url.path': url.pathname,
              'url.scheme': url.protocol.slice(0, -1),
              'server.address': url.hostname,
              ...(url.port && { 'server.port': Number(url.port) }),
            },
          },
          parent,
        );
        requests.set(request, span);
        return context.with(trace.setSpan(parent, span), wrapped);
      },
      parse: (_payload, wrapped) => inSpan(tracer, 'graphql.parse', wrapped),
      validate: (_payload, wrapped) => inSpan(tracer, 'graphql.validate', wrapped),
      execute: ({ context: graphqlContext }, wrapped) => inSpan(tracer, 'graphql.execute', wrapped, (span) => executions.set(graphqlContext, span)),
    },
    onExecute({ args }) {
      const span = executions.get(args.contextValue as object);
      const operation = getOperationAST(args.document, args.operationName);
      if (!span || !operation) return;
      span.setAttribute('graphql.operation.type', operation.operation);
      if (operation.name) span.setAttribute('graphql.operation.name', operation.name.value);
      return {
        onExecuteDone({ result }) {
          const errors = 'errors' in result ? result.errors : undefined;
          if (errors?.length) span.setAttribute('graphql.error.codes', errors.map((error) => errorCode(error)));
        },
      };
    },
    onResponse({ request, response }) {
      const span = requests.get(request);
      if (!span) return;
      span.setAttribute('http.response.status_code', response.status);
      // A client's mistake (4xx) is not the server's error.
      if (response.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    },
    onSchemaChange({ schema, replaceSchema }) {
      if (traced.has(schema)) return;
      const withSpans = traceResolvers(schema, tracer);
      traced.add(withSpans);
      replaceSchema(withSpans);
    },
  };
}

/** Runs one phase in a span of its own, ended when the phase is (synchronous or not). */
function inSpan<T>(tracer: Tracer, name: string, wrapped: () => T, started?: (span: Span) => void): T {
  const span = tracer.startSpan(name);
  started?.(span);
  return context.with(trace.setSpan(context.active(), span), () => settle(span, wrapped));
}

/** Calls `run`, then ends `span` when its result settles; a failure marks the span. */
function settle<T>(span: Span, run: () => T): T {
  const fail = (error: unknown) => {
    span.setStatus({ code: SpanStatusCode.ERROR });
    span.setAttribute('error.type', errorCode(error as { extensions?: Record<string, unknown> }));
    span.end();
    throw error;
  };
  let result: T;
  try {
    result = run();
  } catch (error) {
    return fail(error);
  }
  // Any thenable: Prisma's queries are lazy ones that start when `then` is called, here, in the span.
  if (isThenable(result)) {
    return result.then((value) => {
      span.end();
      return value;
    }, fail) as T;
  }
  span.end();
  return result;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

/**
 * The schema with each resolver of an object-returning field run in a span. A field's span is
 * the child of its nearest traced parent field's (found through `info.path`), so the tree follows
 * the query rather than the order promises settle in.
 */
function traceResolvers(schema: GraphQLSchema, tracer: Tracer): GraphQLSchema {
  const spans = new WeakMap<ResponsePath, OtelContext>();
  const parentOf = (path: ResponsePath): OtelContext => {
    for (let at = path.prev; at; at = at.prev) {
      const found = spans.get(at);
      if (found) return found;
    }
    return context.active();
  };
  return mapSchema(schema, {
    [MapperKind.OBJECT_FIELD]: (field, fieldName, typeName) => {
      const resolve = field.resolve;
      if (!resolve || isLeafType(getNamedType(field.type))) return field;
      const name = `${typeName}.${fieldName}`;
      return {
        ...field,
        resolve: (source, args, graphqlContext, info) => {
          // A subscription resolves each event long after its request's span ended: none for those.
          if (info.operation.operation === 'subscription') return resolve(source, args, graphqlContext, info);
          const parent = parentOf(info.path);
          const span = tracer.startSpan(name, { attributes: { 'graphql.field.name': fieldName, 'graphql.field.path': pathOf(info.path) } }, parent);
          const own = trace.setSpan(parent, span);
          spans.set(info.path, own);
          return context.with(own, () => settle(span, () => resolve(source, args, graphqlContext, info)));
        },
      };
    },
  });
}

function pathOf(path: ResponsePath): string {
  const keys: Array<string | number> = [];
  for (let at: ResponsePath | undefined = path; at; at = at.prev) keys.unshift(at.key);
  return keys.join('.');
}
