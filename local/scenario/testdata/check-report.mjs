// Opens an HTML coverage report in headless Chromium, waits for bpmn-js to
// draw it, prints what it coloured as JSON and saves a screenshot.
// usage: node check-report.mjs REPORT.html SCREENSHOT.png
import { chromium } from 'playwright-core';

const [, , page_, shot] = process.argv;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const requests = [];
  page.on('request', (r) => { if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) requests.push(r.url()); });
  await page.goto('file://' + page_);
  await page.waitForFunction(() => document.body.dataset.ready || document.body.dataset.error, null, { timeout: 30000 });
  const result = await page.evaluate(() => ({
    ready: document.body.dataset.ready === 'true',
    error: document.body.dataset.error || '',
    reached: Number(document.body.dataset.reached || 0),
    unreached: Number(document.body.dataset.unreached || 0),
    reachedShapes: document.querySelectorAll('.djs-shape.reached').length,
    unreachedShapes: document.querySelectorAll('.djs-shape.unreached').length,
    badges: document.querySelectorAll('.hits').length,
    unreachedFill: (() => {
      const el = document.querySelector('.djs-shape.unreached .djs-visual > :first-child');
      return el ? getComputedStyle(el).fill : '';
    })(),
  }));
  result.pageErrors = errors;
  result.externalRequests = requests;
  await page.screenshot({ path: shot, fullPage: true });
  console.log(JSON.stringify(result));
} finally {
  await browser.close();
}
