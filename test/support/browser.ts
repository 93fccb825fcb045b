/**
 * Debian's Chromium driven by playwright-core, for the tests that need a real browser. Nothing is
 * ever downloaded: the browser is the one installed on the machine (`/usr/bin/chromium`, or
 * `CHROMIUM_PATH`). When it is missing, browser tests are skipped with a message saying how to
 * enable them, unless `REQUIRE_BROWSER=1` (as in CI), which makes a missing browser a failure.
 */
import { accessSync, constants } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { describe, it } from 'vitest';

export const ARTIFACTS = path.resolve(import.meta.dirname, '..', 'artifacts');

/** Flags for a headless Chromium that talks to nothing but the pages the test opens. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function chromiumPath(): string {
  return process.env.CHROMIUM_PATH || '/usr/bin/chromium';
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * `describe`, or a skipped (or, with REQUIRE_BROWSER=1, failing) stand-in naming the fix when
 * there is no browser to drive.
 */
export function describeWithBrowser(name: string, body: () => void): void {
  const file = chromiumPath();
  if (executable(file)) {
    describe(name, body);
    return;
  }
  const message = `no Chromium at ${file}: install it with \`apt-get install chromium\` (or set CHROMIUM_PATH) to run the browser tests`;
  if (process.env.REQUIRE_BROWSER === '1') {
    describe(name, () => {
      it('needs a browser (REQUIRE_BROWSER=1)', () => {
        throw new Error(message);
      });
    });
  } else {
    console.warn(`[browser tests skipped] ${message}`);
    describe.skip(`${name} (skipped: ${message})`, body);
  }
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Browser console errors and uncaught page errors, for failure messages. */
  problems: string[];
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** A fresh headless Chromium with a new, empty profile folder, removed again by `close`. */
export async function launchBrowser(): Promise<Browser> {
  const profile = await mkdtemp(path.join(os.tmpdir(), 'cgw-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath(),
      args: CHROMIUM_ARGS,
      headless: true,
      viewport: { width: 1280, height: 900 },
      timeout: 20_000,
    });
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    throw error;
  }
  context.setDefaultTimeout(10_000);
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  return {
    context,
    page,
    problems,
    async screenshot(name) {
      await mkdir(ARTIFACTS, { recursive: true });
      const file = path.join(ARTIFACTS, name);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    async close() {
      try {
        await context.close();
      } finally {
        await rm(profile, { recursive: true, force: true });
      }
    },
  };
}
