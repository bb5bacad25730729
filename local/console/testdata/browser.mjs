// Drives the support console in headless Chromium: sign in as support
// through the QR / device flow (approving as the simulated Diia app would),
// find the failed application, redrive it, wait until it completes and its
// audit entry shows. Prints what it saw as JSON; screenshots go to OUTDIR.
// usage: node browser.mjs CONSOLE_URL STAFF_ID APPLICATION_ID OUTDIR
import { chromium } from 'playwright-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [, , base, staff, app, outdir] = process.argv;
const result = { steps: [] };
const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'console-chromium-')), {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
  viewport: { width: 1400, height: 1000 },
});
const origin = new URL(base).origin;
try {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const external = [];
  page.on('request', (r) => { if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) external.push(r.url()); });

  const first = await page.goto(base + '/console/');
  result.loginStatus = first.status();
  await page.click('#sign-in');
  await page.waitForFunction(() => document.body.dataset.verify, null, { timeout: 15000 });
  const verify = await page.evaluate(() => document.body.dataset.verify);
  // The simulated Diia app scans the QR code and confirms as the staff member.
  const u = new URL(verify);
  const approve = await fetch(u.origin + '/device/approve', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ user_code: u.searchParams.get('user_code'), tax_number: staff }),
  });
  result.approved = approve.status;
  result.steps.push('signed in');

  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 30000 });
  const row = `#failed-list tr[data-app="${app}"]`;
  await page.waitForSelector(row, { timeout: 15000 });
  await page.waitForFunction(() => Number(document.body.dataset.badges || 0) > 0, null, { timeout: 30000 });
  result.badges = await page.evaluate(() => Number(document.body.dataset.badges));
  result.failedBadges = await page.locator('.badge.failed').count();
  result.runningBadges = await page.locator('.badge.running').count();
  await page.screenshot({ path: join(outdir, 'console-overview.png'), fullPage: true });
  result.steps.push('found the failed application');

  await page.click(row);
  await page.waitForSelector('#redrive', { timeout: 15000 });
  result.failedStatus = await page.textContent('#detail-status');
  result.stepData = await page.locator('#step-input').count();
  await page.screenshot({ path: join(outdir, 'console-failed.png'), fullPage: true });
  await page.fill('#reason', 'Казначейство знову приймає платежі');
  await page.click('#redrive');
  result.steps.push('redrove');

  await page.waitForFunction(() => document.getElementById('detail-status')?.textContent === 'SUCCEEDED', null, { timeout: 30000 });
  await page.waitForSelector('#audit-list li[data-action="redrive"]', { timeout: 15000 });
  result.finalStatus = await page.textContent('#detail-status');
  result.auditEntry = await page.textContent('#audit-list li[data-action="redrive"]');
  await page.screenshot({ path: join(outdir, 'console-redriven.png'), fullPage: true });
  result.steps.push('completed');
  result.pageErrors = errors;
  result.externalRequests = external;
} catch (e) {
  result.error = String(e);
} finally {
  await context.close();
}
console.log(JSON.stringify(result));
