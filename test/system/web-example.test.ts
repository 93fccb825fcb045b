/**
 * The web example (examples/web: Apollo Client in a page built by Vite), served by
 * `npm run example:web` and driven in Chromium against the real gateway and PostgreSQL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { verify } from '@node-rs/argon2';
import type { Request } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithBrowser, launchBrowser, type Browser } from '../support/browser.ts';
import { customerRow, insertCustomer } from '../support/customers.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { waitFor } from '../support/wait-for.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

interface WebExample {
  url: string;
  origin: string;
  output: () => string;
  stop(): Promise<void>;
}

/** `npm run example:web` on a free port, proxying /graphql to the gateway; stopped with its process group. */
async function startWebExample(gatewayUrl: string): Promise<WebExample> {
  const child: ChildProcess = spawn('npm', ['run', 'example:web', '--', '--port', '0', '--strictPort'], {
    cwd: ROOT,
    env: { ...process.env, GATEWAY_URL: gatewayUrl, NO_COLOR: '1' },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const group = -child.pid!;
    process.kill(group, 'SIGTERM');
    const timer = setTimeout(() => {
      try {
        process.kill(group, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 5_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`npm run example:web printed no URL in 60 s:\n${output}`)), 60_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /Local:\s+(http:\/\/\S+)/.exec(output.replace(/\x1b\[[0-9;]*m/g, ''));
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`npm run example:web exited with ${code}:\n${output}`));
      });
    });
    return { url, origin: new URL(url).origin, output: () => output, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The GraphQL operations the page sends, by operation name and variables. */
function recordOperations(browser: Browser): Array<{ url: string; operationName: string; variables: Record<string, any> }> {
  const operations: Array<{ url: string; operationName: string; variables: Record<string, any> }> = [];
  browser.page.on('request', (request: Request) => {
    if (request.method() !== 'POST' || !request.url().endsWith('/graphql')) return;
    const body = JSON.parse(request.postData() ?? '{}');
    operations.push({ url: request.url(), operationName: body.operationName, variables: body.variables });
  });
  return operations;
}

describeWithBrowser('the web example in Chromium', () => {
  let server: TestServer;
  let allowingPage: TestServer;
  let web: WebExample;
  let browser: Browser;

  beforeAll(async () => {
    server = await startTestServer();
    web = await startWebExample(server.url);
    // The same database behind a second gateway that allows the page's origin, for the CORS case.
    allowingPage = await startTestServer({ database: server.database, corsOrigins: [web.origin] });
    browser = await launchBrowser();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await web?.stop();
    await allowingPage?.close();
    await server?.close();
  });

  async function open(query: Record<string, string>): Promise<void> {
    const { page } = browser;
    await page.goto(`${web.url}?${new URLSearchParams(query)}`);
  }

  it('loads a customer, saves only the fields changed and a new password, and the cache updates the page without a refetch', async () => {
    const { page } = browser;
    const { id } = await insertCustomer(server);
    const operations = recordOperations(browser);
    await open({ id, token: server.tokens.write });
    await page.locator('#customer').waitFor({ state: 'visible', timeout: 20_000 });
    expect(await page.inputValue('#firstName')).toBe('Jane');
    expect(await page.inputValue('#storeCredit')).toBe('25.5000');
    await waitFor(async () => (await page.textContent('#summary'))?.includes('version 1'), { what: 'the summary to show version 1' });

    await page.fill('#firstName', 'Janet');
    await page.fill('#company', '');
    await page.fill('#storeCredit', '30.5');
    await page.fill('#password', 'Correct-horse-9');
    await page.fill('#passwordConfirmation', 'Correct-horse-9');
    const before = operations.length;
    await page.click('#save');
    await page.locator('#status.saved').waitFor();
    expect(await page.textContent('#status')).toBe('Saved: version 2.');

    // One request: the mutation, with only what changed, based on the version loaded.
    expect(operations.slice(before)).toEqual([
      {
        url: `${web.url.replace(/\/$/, '')}/graphql`,
        operationName: 'UpdateCustomer',
        variables: {
          id,
          expectedVersion: 1,
          input: {
            firstName: 'Janet',
            company: null,
            storeCredit: '30.5',
            authentication: { password: 'Correct-horse-9', passwordConfirmation: 'Correct-horse-9' },
          },
        },
      },
    ]);
    // The summary line watches the cache: the mutation's answer updated it under the customer's id.
    expect(await page.textContent('#summary')).toContain('Janet Doe');
    expect(await page.textContent('#summary')).toContain('version 2');
    expect(await page.inputValue('#storeCredit')).toBe('30.5000');
    expect(await page.inputValue('#password')).toBe('');

    const row = await customerRow(server, id);
    expect(row).toMatchObject({ first_name: 'Janet', company: null, store_credit: '30.5000', version: 2, last_name: 'Doe' });
    expect(await verify(row!.password_hash as string, 'Correct-horse-9')).toBe(true);
    await browser.screenshot('web-example-saved.png');
    expect(browser.problems).toEqual([]);
  });

  it('shows TAKEN next to the email field and PASSWORD_MISMATCH next to the confirmation, and writes nothing', async () => {
    const { page } = browser;
    const { id } = await insertCustomer(server);
    const other = await insertCustomer(server);
    const before = await customerRow(server, id);
    await open({ id, token: server.tokens.write });
    await page.locator('#customer').waitFor({ state: 'visible', timeout: 20_000 });

    await page.fill('#email', other.email.toUpperCase());
    await page.fill('#password', 'Correct-horse-9');
    await page.fill('#passwordConfirmation', 'Correct-horse-8');
    await page.click('#save');
    await page.locator('#status.failed').waitFor();

    expect(await page.textContent('#email-error')).toBe('Another customer already uses this email address.');
    expect(await page.getAttribute('#email-error', 'data-code')).toBe('TAKEN');
    expect(await page.isVisible('#email-error')).toBe(true);
    expect(await page.getAttribute('#email', 'aria-invalid')).toBe('true');
    expect(await page.getAttribute('#passwordConfirmation-error', 'data-code')).toBe('PASSWORD_MISMATCH');
    expect(await page.textContent('#passwordConfirmation-error')).toMatch(/.+/);
    expect(await page.getAttribute('#passwordConfirmation', 'aria-invalid')).toBe('true');
    // No other field is marked.
    expect(await page.locator('p.error:visible').count()).toBe(2);
    expect(await page.textContent('#status')).toBe('Nothing was saved.');
    expect(await customerRow(server, id)).toEqual(before);
    await browser.screenshot('web-example-email-taken.png');

    // Fixing the input and saving again clears the errors.
    await page.fill('#email', 'fixed.' + other.email);
    await page.fill('#passwordConfirmation', 'Correct-horse-9');
    await page.click('#save');
    await page.locator('#status.saved').waitFor();
    expect(await page.locator('p.error:visible').count()).toBe(0);
    expect((await customerRow(server, id))!.email).toBe('fixed.' + other.email);
  });

  it('calls a gateway on another origin when CORS_ORIGINS lists the page, and is refused by one that does not', async () => {
    const { page } = browser;
    const { id } = await insertCustomer(server);
    const operations = recordOperations(browser);

    await open({ id, token: server.tokens.write, endpoint: `${allowingPage.url}/graphql` });
    await page.locator('#customer').waitFor({ state: 'visible', timeout: 20_000 });
    await page.fill('#phone', '+1 555 0100');
    await page.click('#save');
    await page.locator('#status.saved').waitFor();
    expect(operations.map((operation) => operation.url)).toEqual([`${allowingPage.url}/graphql`, `${allowingPage.url}/graphql`]);
    expect((await customerRow(server, id))!.phone).toBe('+1 555 0100');

    // The gateway behind the proxy lists no origin: called directly, the browser refuses the answer.
    await open({ id, token: server.tokens.write, endpoint: `${server.url}/graphql` });
    await page.locator('#status.failed').waitFor();
    expect(await page.textContent('#status')).toMatch(/^Could not load the customer: /);
    expect(await page.isVisible('#customer')).toBe(false);
    expect(browser.problems.join('\n')).toContain('blocked by CORS policy');
    browser.problems.length = 0;
  });
});
