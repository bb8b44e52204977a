import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import playwright, { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ROOT } from '../harness/global-setup.js';

/** Debian's Chromium (scripts/install.sh installs it), headless; WebGL through SwiftShader for the map. */
export const CHROMIUM = process.env.GEOJOBS_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** Where the pages' screenshots are kept as test artifacts (git-ignored, under .data). */
export const SCREENSHOTS_DIR = join(ROOT, '.data', 'ui-screenshots');

export const SCREENS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;
export type Screen = keyof typeof SCREENS;

export function launchBrowser(): Promise<Browser> {
  return playwright.chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist'],
  });
}

/** A page of its own (a fresh context: no session), recording every console error and uncaught exception. */
export async function openPage(browser: Browser, screen: Screen): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: SCREENS[screen], deviceScaleFactor: 1 });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()} (${message.location().url}:${message.location().lineNumber})`);
    if (process.env.GEOJOBS_TEST_UI_CONSOLE) {
      void Promise.all(
        message.args().map((arg) => arg.evaluate((value: unknown) => String((value as { stack?: string })?.stack ?? JSON.stringify(value)))),
      ).then((args) => process.stdout.write(`[${screen} ${message.type()}] ${message.text()} ${args.join(' ')}\n`));
    }
  });
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  // a request the app aborted itself (an event stream closed as the page changes) is not a failure
  page.on('requestfailed', (request) => {
    if (request.failure()?.errorText !== 'net::ERR_ABORTED')
      errors.push(`request failed: ${request.method()} ${request.url()} ${request.failure()?.errorText}`);
  });
  return { context, page, errors };
}

/** Logs in through the form, as a person would. */
export async function logIn(page: Page, baseUrl: string, credentials: { username: string; password: string }, path = '/ui/'): Promise<void> {
  await page.goto(`${baseUrl}${path}`);
  await page.getByLabel('Username').fill(credentials.username);
  await page.getByLabel('Password').fill(credentials.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('button', { name: 'Log out' }).waitFor();
}

export async function screenshot(page: Page, name: string, screen: Screen): Promise<string> {
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  const path = join(SCREENSHOTS_DIR, `${name}-${screen}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Of the map's canvas, how many pixels are the features' blue (the fill blended over the background, or the outline):
 * the background and the graticule are warm greys, so a bluish pixel is a drawn feature.
 */
export function featurePixels(page: Page): Promise<{ width: number; height: number; feature: number; background: number }> {
  // run in the page (a string: the test code is compiled without the DOM's types)
  return page.evaluate(`(() => {
    const source = document.querySelector('.map canvas');
    if (!source) throw new Error('no map canvas');
    const copy = document.createElement('canvas');
    copy.width = source.width;
    copy.height = source.height;
    const context = copy.getContext('2d');
    context.drawImage(source, 0, 0);
    const { data } = context.getImageData(0, 0, copy.width, copy.height);
    let feature = 0;
    let background = 0;
    for (let index = 0; index < data.length; index += 4) {
      const red = data[index], green = data[index + 1], blue = data[index + 2];
      if (blue > red + 40) feature++;
      else if (Math.abs(red - 244) < 6 && Math.abs(green - 241) < 6 && Math.abs(blue - 234) < 6) background++;
    }
    return { width: copy.width, height: copy.height, feature, background };
  })()`);
}
