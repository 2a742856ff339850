/**
 * The chat demo in a real browser: Debian's Chromium, headless, driven by playwright-core. Two
 * pages join, a message typed in one appears in both, and closing a page is a clean close in the
 * server's log. A screenshot goes to .cache/chat-demo.png. Without Chromium this fails (it does
 * not skip): the demo is only known to work once a browser has shown it.
 */

import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { Example, portOf, stopAll } from './child.js';

const chromiumPath = '/usr/bin/chromium';
const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

describe('examples: the chat demo in headless Chromium', function () {
  this.timeout(20_000);
  let context: BrowserContext | null = null;
  let profile: string | null = null;

  afterEach(async () => {
    await context?.close();
    context = null;
    if (profile !== null) rmSync(profile, { recursive: true, force: true });
    profile = null;
    await stopAll();
  });

  /** Opens the demo in a new page and waits until its WebSocket is connected. */
  async function open(url: string): Promise<Page> {
    const page = await context!.newPage();
    await page.goto(url);
    await page.locator('#status', { hasText: 'connected' }).waitFor({ timeout: 5000 });
    return page;
  }

  it('shows a message typed in one page in both, and logs a clean close when a page closes', async () => {
    if (!existsSync(chromiumPath)) {
      throw new Error(`Chromium is not installed at ${chromiumPath}: run apt-get install -y chromium`);
    }
    const chat = new Example('chat/server', [], { PORT: '0' });
    const port = await portOf(chat, /chat demo on http:\/\/127\.0\.0\.1:(\d+)\//);
    const url = `http://127.0.0.1:${port}/`;

    profile = mkdtempSync(join(tmpdir(), 'tsbeast-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless: true,
      args: chromiumArgs,
      viewport: { width: 900, height: 640 },
    });
    const alice = await open(url);
    const bob = await open(url);
    await chat.waitFor(/\(2 in the room\)/);

    await alice.locator('#name').fill('alice');
    await alice.locator('#text').fill('hello from a real browser');
    await alice.locator('#text').press('Enter');
    for (const page of [alice, bob]) {
      await page.locator('#messages li', { hasText: 'alice: hello from a real browser' }).waitFor({ timeout: 5000 });
    }
    await bob.locator('#name').fill('bob');
    await bob.locator('#text').fill('hi alice, seen it');
    await bob.locator('#send').click();
    await alice.locator('#messages li', { hasText: 'bob: hi alice, seen it' }).waitFor({ timeout: 5000 });
    expect(await alice.locator('#messages li').allTextContents()).to.deep.equal([
      'alice: hello from a real browser',
      'bob: hi alice, seen it',
    ]);

    mkdirSync('.cache', { recursive: true });
    await alice.screenshot({ path: join('.cache', 'chat-demo.png') });

    // Closing a page closes its WebSocket with 1001 (going away): a clean close, not an error.
    await bob.close({ runBeforeUnload: true });
    await chat.waitFor(/close 127\.0\.0\.1:\d+: clean, code 1001 \(1 in the room\)/);
    expect(chat.stderr).to.equal('');
  });
});
