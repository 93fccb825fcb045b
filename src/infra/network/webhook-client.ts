/**
 * One webhook attempt over HTTP(S): a POST with a deadline for the whole exchange. The answer's
 * body is read and dropped (up to a bound), so the connection can serve the next attempt. Where
 * a connection goes is decided by `lookup`, which can refuse an address at connect time: an
 * address checked once at registration could point elsewhere by now.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { isForbiddenAddress, publicOnlyLookup } from './address-policy.ts';

export interface PostOptions {
  timeoutMs: number;
  /** Only public addresses: a host that is, or resolves to, any other is refused before connecting. */
  publicOnly: boolean;
}

/** `status` null: no answer (timeout, refused, unreachable, forbidden address); `error` says why. */
export interface PostResult {
  status: number | null;
  error: string | null;
}

const agents = { 'http:': new http.Agent({ keepAlive: true, maxSockets: 32 }), 'https:': new https.Agent({ keepAlive: true, maxSockets: 32 }) };
const MAX_ANSWER_BYTES = 64 * 1024;
const FORBIDDEN = 'the host is, or resolves to, an address webhooks may not be sent to';

export function postWebhook(url: string, headers: Record<string, string>, body: string, options: PostOptions): Promise<PostResult> {
  return new Promise((resolve) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return resolve({ status: null, error: 'the URL is not valid' });
    }
    const protocol = target.protocol === 'https:' ? 'https:' : target.protocol === 'http:' ? 'http:' : null;
    if (!protocol) return resolve({ status: null, error: 'the URL is not http or https' });
    // Node asks `lookup` only for names: an address written in the URL is checked here.
    const literal = target.hostname.replace(/^\[(.*)\]$/, '$1');
    if (options.publicOnly && isIP(literal) !== 0 && isForbiddenAddress(literal)) {
      return resolve({ status: null, error: FORBIDDEN });
    }
    const send = protocol === 'https:' ? https.request : http.request;
    let settled = false;
    const finish = (result: PostResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      resolve(result);
    };
    const request = send(
      target,
      {
        method: 'POST',
        agent: agents[protocol],
        headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'customer-gateway-webhooks' },
        ...(options.publicOnly ? { lookup: publicOnlyLookup } : {}),
      },
      (response) => {
        let read = 0;
        response.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_ANSWER_BYTES) response.destroy();
        });
        response.on('error', () => finish({ status: response.statusCode ?? null, error: null }));
        response.on('close', () => finish({ status: response.statusCode ?? null, error: null }));
      },
    );
    const deadline = setTimeout(() => {
      request.destroy();
      finish({ status: null, error: `no answer within ${options.timeoutMs} ms` });
    }, options.timeoutMs);
    request.on('error', (error: NodeJS.ErrnoException) => finish({ status: null, error: describe(error) }));
    request.end(body);
  });
}

function describe(error: NodeJS.ErrnoException): string {
  if (error.code === 'EFORBIDDENADDRESS') return FORBIDDEN;
  if (error.code === 'ECONNREFUSED') return 'connection refused';
  if (error.code === 'ENOTFOUND') return 'the host name does not resolve';
  if (error.code === 'ECONNRESET') return 'connection reset';
  return error.code ? `connection failed (${error.code})` : 'connection failed';
}
