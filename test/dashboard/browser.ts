/**
 * browser: Debian's Chromium driven by playwright-core, which downloads no browser. `.ci/run`
 * installs the `chromium` package; every launch gets a fresh profile directory (playwright makes a new --user-data-dir for each launch and removes it after) and no network
 * features that would reach out (updates, sync, QUIC).
 */
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM = process.env.TRADEPIPE_CHROMIUM ?? "/usr/bin/chromium";

export async function launchChromium(): Promise<{ browser: Browser; close(): Promise<void> }> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no Chromium at ${CHROMIUM}: apt-get install chromium (or set TRADEPIPE_CHROMIUM)`,
    );
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    browser,
    async close() {
      await browser.close();
    },
  };
}
