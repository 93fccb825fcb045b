/**
 * GraphiQL at /graphql as a developer meets it after `npm start`: in Chromium, with the
 * development token filled in and the example updateCustomer operation ready to run, and the
 * live feed's subscription showing each write as it is made.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createToken } from '../../src/domain/tokens.ts';
import { seedDemoCustomers } from '../../src/domain/demo-customers.ts';
import { describeWithBrowser, launchBrowser, type Browser } from '../support/browser.ts';
import { customerRow } from '../support/customers.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { waitFor } from '../support/wait-for.ts';

/** An editor's text as shown (Monaco renders non-breaking spaces), on one line. */
async function editorText(browser: Browser, selector: string): Promise<string> {
  return (await browser.page.locator(selector).innerText()).replace(/\s+/g, ' ');
}

describeWithBrowser('GraphiQL in Chromium', () => {
  let database: TestDatabase;
  let server: TestServer;
  let browser: Browser;
  let developmentToken: string;

  beforeAll(async () => {
    // What `npm start` does on a new development database: demo customers and a write token.
    database = await createTestDatabase();
    await seedDemoCustomers(database.db);
    developmentToken = (await createToken(database.db, 'development', ['customers:write'])).secret;
    server = await startTestServer({ database, developmentToken });
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await database?.close();
  });

  it('runs the example updateCustomer with the prefilled development token and shows the result', async () => {
    const { page } = browser;
    const external: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(server.url) && !/^(data|blob):/.test(request.url())) external.push(request.url());
    });
    const response = await page.goto(`${server.url}/graphql`);
    expect(response?.status()).toBe(200);
    await page.locator('.graphiql-execute-button').waitFor({ timeout: 20_000 });

    expect(await editorText(browser, '.graphiql-query-editor')).toContain('mutation UpdateCustomer {');
    await page.getByText('Headers', { exact: true }).click();
    expect(await editorText(browser, '.graphiql-editor-tool')).toContain(`"X-Auth-Token": "${developmentToken}"`);

    await page.locator('.graphiql-execute-button').click();
    await waitFor(async () => (await editorText(browser, '.graphiql-response')).includes('"company": "Acme Corporation"'), { what: 'the response in the result pane' });
    const result = await editorText(browser, '.graphiql-response');
    expect(result).toContain('"id": "1"');
    expect(result).toContain('"storeCredit": "30.0000"');
    expect(result).toContain('"version": 2');
    expect(result).toContain('"errors": []');
    await browser.screenshot('graphiql-update-customer.png');

    expect(await customerRow(server, 1)).toMatchObject({ company: 'Acme Corporation', store_credit: '30.0000', version: 2 });
    // Everything the page needs comes from the gateway itself: it works offline, and no
    // third-party script runs next to the token.
    expect(external).toEqual([]);
    expect(browser.problems).toEqual([]);
  });

  it('runs the live feed subscription and shows a write made meanwhile through the API', async () => {
    const { page } = browser;
    await page.goto(`${server.url}/graphql`);
    await page.locator('.graphiql-execute-button').waitFor({ timeout: 20_000 });
    await page.locator('.graphiql-query-editor').click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.insertText('subscription { customerChanges { type customerId change { version } } }');
    await page.getByRole('button', { name: /^Prettify/ }).click();
    await waitFor(async () => (await editorText(browser, '.graphiql-query-editor')).includes('subscription { customerChanges { type'), {
      what: 'the subscription, prettified, in the editor',
    });

    // The server answers once the subscription follows the change log: from then on no write is missed.
    const started = page.waitForResponse((response) => new URL(response.url()).pathname === '/graphql' && /^text\/event-stream/.test(response.headers()['content-type'] ?? ''));
    await page.locator('.graphiql-execute-button').click();
    expect((await started).status()).toBe(200);

    const write = await server.graphql('mutation { updateCustomer(id: "1", input: { company: "Live Feed Inc." }) { customer { version } } }', {}, { token: developmentToken });
    expect(write.body.data).toEqual({ updateCustomer: { customer: { version: 3 } } });
    await waitFor(async () => (await editorText(browser, '.graphiql-response')).includes('"type": "CUSTOMER_UPDATED"'), { what: 'the event in the result pane' });
    const result = await editorText(browser, '.graphiql-response');
    expect(result).toContain('"customerId": "1"');
    expect(result).toContain('"version": 3');
    await browser.screenshot('graphiql-live-feed.png');
    expect(browser.problems).toEqual([]);
  });
});
