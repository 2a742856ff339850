/**
 * The chat demo in a real browser: Debian's Chromium, headless, driven by playwright-core. Two
 * people (two browser contexts, so two tokens) pick names, talk, and see joins and the member
 * count; a paste over the limit is refused with words before it is sent; a server restart shows
 * the close in words and a countdown, and the page reconnects by itself under the same name with
 * the history. Screenshots at desktop width and at 390 px (a phone) go to .cache/ (chat-*.png).
 * Without Chromium this fails (it does not skip): the demo is only known to work once a browser
 * has shown it.
 */

import { expect } from 'chai';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Example, portOf, stopAll } from './child.js';
import { freePort } from '../peers/support.js';

const chromiumPath = '/usr/bin/chromium';
const chromiumArgs = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'];
const shots = '.cache';

describe('examples: the chat demo in headless Chromium', function () {
  this.timeout(60_000);
  let browser: Browser | null = null;

  afterEach(async () => {
    await browser?.close();
    browser = null;
    await stopAll();
  });

  async function startChat(port: number): Promise<Example> {
    const chat = new Example('chat/server', [], { PORT: String(port) });
    await portOf(chat, /chat demo on http:\/\/127\.0\.0\.1:(\d+)\//);
    return chat;
  }

  /** A new person (own storage, so own token) opening the page; waits until connected. */
  async function person(url: string, width = 900, height = 640): Promise<Page> {
    const context = await browser!.newContext({ viewport: { width, height } });
    const page = await context.newPage();
    await page.goto(url);
    await page.locator('#status', { hasText: /^connected$/ }).waitFor({ timeout: 5000 });
    return page;
  }

  /** Renames through the page: the server confirms with a new welcome. */
  async function rename(page: Page, name: string): Promise<void> {
    await page.locator('#name').fill(name);
    await page.locator('#name').press('Enter');
    await page.locator('#text').focus(); // the change event fires on blur too
    await page.locator('#messages li.notice', { hasText: `you joined as ${name} ` }).waitFor({ timeout: 5000 });
  }

  async function say(page: Page, text: string): Promise<void> {
    await page.locator('#text').fill(text);
    await page.locator('#text').press('Enter');
  }

  it('two people talk; limits, restarts and phone width are handled in words', async () => {
    if (!existsSync(chromiumPath)) throw new Error(`Chromium is not installed at ${chromiumPath}: run apt-get install -y chromium`);
    mkdirSync(shots, { recursive: true });
    const port = await freePort();
    let chat = await startChat(port);
    const url = `http://127.0.0.1:${port}/`;
    browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs });

    const alice = await person(url);
    await rename(alice, 'alice');
    const bob = await person(url);
    await rename(bob, 'bob');
    await alice.locator('#messages li.notice', { hasText: 'bob joined' }).waitFor({ timeout: 5000 });
    await alice.locator('#count', { hasText: '2 members' }).waitFor({ timeout: 5000 });

    await say(alice, 'hello from a real browser');
    await say(bob, 'hi alice, seen it');
    for (const page of [alice, bob]) {
      await page.locator('#messages li.msg', { hasText: 'hi alice, seen it' }).waitFor({ timeout: 5000 });
      const lines = await page.locator('#messages li.msg').allTextContents();
      expect(lines.map((l) => l.replace(/^\d\d:\d\d\s*(AM|PM)?/, ''))).to.deep.equal(['alicehello from a real browser', 'bobhi alice, seen it']);
    }

    // A paste over the limit: refused with words, never sent, the connection stays.
    const limit = Number(await alice.evaluate('maxBytes'));
    await alice.locator('#text').fill('y'.repeat(64 * 1024));
    await alice.locator('#hint', { hasText: `the limit is ${limit.toLocaleString('en-US')}` }).waitFor({ timeout: 2000 });
    expect(await alice.locator('#send').isDisabled()).to.equal(true);
    await alice.screenshot({ path: join(shots, 'chat-desktop-too-long.png') });
    await alice.locator('#text').fill('');
    await alice.screenshot({ path: join(shots, 'chat-desktop.png') });

    // The phone: everything fits in 390 px, the Send button included.
    const phone = await person(url, 390, 844);
    await rename(phone, 'carol');
    await phone.locator('#messages li.msg', { hasText: 'hi alice, seen it' }).waitFor({ timeout: 5000 }); // history for a late joiner
    await say(phone, 'on my phone');
    await alice.locator('#messages li.msg', { hasText: 'on my phone' }).waitFor({ timeout: 5000 });
    const send = (await phone.locator('#send').boundingBox())!;
    expect(send.x + send.width, 'Send fits at 390 px').to.be.at.most(390);
    expect(await phone.evaluate('document.documentElement.scrollWidth')).to.be.at.most(390);
    await phone.screenshot({ path: join(shots, 'chat-phone.png') });

    // A restart: the close in words and a countdown, then back by itself with the same name.
    chat.kill('SIGTERM');
    await chat.exited();
    await alice.locator('#status', { hasText: 'the server is going away: server shutting down · retrying in' }).waitFor({ timeout: 5000 });
    await alice.locator('#messages li.notice.bad', { hasText: 'disconnected: the server is going away' }).waitFor({ timeout: 5000 });
    await alice.screenshot({ path: join(shots, 'chat-desktop-reconnecting.png') });
    chat = await startChat(port);
    for (const page of [alice, bob, phone]) {
      await page.locator('#status', { hasText: /^connected$/ }).waitFor({ timeout: 20_000 }).catch(async (err: Error) => {
        throw new Error(`${err.message}\nstatus: ${await page.locator('#status').textContent()}\nlog: ${(await page.locator('#messages').textContent())?.slice(-300)}\nserver: ${chat.output}`);
      });
    }
    expect(await alice.locator('#name').inputValue()).to.equal('alice');
    await alice.locator('#count', { hasText: '3 members' }).waitFor({ timeout: 5000 });
    await say(bob, 'back again');
    await alice.locator('#messages li.msg', { hasText: 'back again' }).waitFor({ timeout: 5000 });
    expect(await alice.locator('#status').textContent()).to.not.match(/code 0/);

    // Closing a page is a clean close (1001) in the server's log.
    await bob.close({ runBeforeUnload: true });
    await chat.waitFor(/close 127\.0\.0\.1:\d+ \S+: clean, code 1001/);
    await alice.locator('#count', { hasText: '2 members' }).waitFor({ timeout: 5000 });
    expect(chat.stderr).to.equal('');
  });
});
