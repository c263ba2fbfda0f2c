// Headless Chromium for the browser tests: Debian's /usr/bin/chromium (installed by .ci/run)
// driven by playwright-core, which never downloads a browser of its own.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.SIMDGRAD_CHROMIUM || '/usr/bin/chromium';

/**
 * Whether the browser tests can run. Locally a missing Chromium skips them (with the reason in
 * the test name); under CI it does not: the tests run and fail, since .ci/run installs it.
 */
export const chromiumAvailable = existsSync(CHROMIUM);
export const runBrowserTests = chromiumAvailable || process.env.CI === 'true';
export const skipNote = runBrowserTests ? '' : ` [SKIPPED: ${CHROMIUM} not found; apt-get install -y chromium]`;

/** Where the tests put screenshots: outside the repository, under the OS temp dir. */
export const artifactDir = join(tmpdir(), 'simdgrad-browser-tests');

export interface Browser {
  context: BrowserContext;
  /** A new page that records console errors and uncaught exceptions into `errors`. */
  page(): Promise<{ page: Page; errors: string[] }>;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (.ci/run installs Debian's chromium package)`);
  mkdirSync(artifactDir, { recursive: true });
  const profile = mkdtempSync(join(tmpdir(), 'simdgrad-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1100, height: 760 },
    timeout: 60_000,
    // A fresh profile, and no background traffic (this machine has no network beyond loopback).
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  context.setDefaultTimeout(30_000);
  return {
    context,
    async page() {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(`console.error: ${m.text()}`);
      });
      return { page, errors };
    },
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
