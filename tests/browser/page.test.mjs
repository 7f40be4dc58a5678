// The voters' page (functions/cli/web) in a real browser, against `ballot-tracking serve` on the
// sample election: sign up, codes, my ballot, refusals, stop messages, accessibility (axe-core,
// WCAG 2.0/2.1 A and AA) in all ten languages, 320 px wide, and a screenshot of each view in
// target/screenshots/<view>-<lang>.png.
//
//   node --test tests/browser/          (from the repository root; after `npm ci` in tests/browser)
//
// WMB_BIN overrides the server binary (default target/debug/ballot-tracking); CHROMIUM the
// browser (default /usr/bin/chromium).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const BIN = process.env.WMB_BIN || path.join(root, 'target/debug/ballot-tracking');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = path.join(root, 'target/screenshots');
const AXE = require.resolve('axe-core/axe.min.js');
const LANGS = ['en', 'es', 'zh', 'hi', 'ja', 'km', 'ko', 'tl', 'th', 'vi'];
const NATIVE = {
  en: 'English', es: 'Español', zh: '中文', hi: 'हिन्दी', ja: '日本語',
  km: 'ភាសាខ្មែរ', ko: '한국어', tl: 'Tagalog', th: 'ไทย', vi: 'Tiếng Việt',
};
const WCAG = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const dict = Object.fromEntries(LANGS.map((l) => [l, JSON.parse(fs.readFileSync(path.join(root, 'functions/cli/web/i18n', `${l}.json`), 'utf8'))]));

/** The menu link to `view` as named in `lang` (Language: "Language / <the word in lang>"). */
function navName(lang, view) {
  if (view !== 'language') return s(lang, `nav_${view}`);
  return lang === 'en' ? dict.en.nav_language : `${dict.en.nav_language} / ${dict[lang].nav_language}`;
}

/** A string of the page in `lang`, placeholders filled as the page fills them. */
function s(lang, key, args = {}) {
  const all = { program: dict[lang].program, ...args };
  return dict[lang][key].replace(/\{(\w+)\}/g, (m, k) => (k in all ? String(all[k]) : m));
}

// Sample voters (events/sample-election/voters.csv); each test uses its own voters and phones.
const V = {
  emily: { first: 'Emily', last: 'Chen', dob: '03-14-1985', zip: '94612' },
  daniel: { first: 'Daniel', last: 'Okafor', dob: '08-11-1979', zip: '94704' },
  jose: { first: 'José', last: 'Ramírez', dob: '07-22-1990', zip: '94601' },
  rosa: { first: 'Rosa', last: 'De La Cruz', dob: '01-30-1958', zip: '94541' },
  hannah: { first: 'Hannah', last: 'Lee', dob: '12-19-2001', zip: '94702' },
  jiwoo: { first: 'Ji-woo', last: 'Park', dob: '02-17-1995', zip: '94536' },
  yuki: { first: 'Yuki', last: 'Tanaka', dob: '01-08-1983', zip: '90012' },
  wei: { first: 'Wei', last: 'Zhang', dob: '04-03-1976', zip: '91801' },
  maria: { first: 'Maria', last: 'Garcia', dob: '05-09-1988', zip: '90026' },
  ravi: { first: 'Ravi', last: 'Patel', dob: '09-09-1986', zip: '92130' },
};

let server;
let base;
let outDir;
let browser;

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function portAnswers(port) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.once('connect', () => { sock.destroy(); resolve(true); });
    sock.once('error', () => resolve(false));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** The servers started, by base address (their logs, for a page that does not load). */
const servers = new Map();

/** Starts `ballot-tracking serve` on the sample election (or `dir`) at `at`; resolves once its port answers. */
async function startServer(at, dir = 'events/sample-election') {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'wmb-browser-'));
  const port = await freePort();
  const proc = spawn(BIN, ['serve', dir, '--port', String(port), '--out', out, '--at', at], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, WMB_SERVE_TRACE: '1' },
  });
  let log = '';
  proc.stdout.on('data', (d) => { log += d; });
  proc.stderr.on('data', (d) => { log += d; });
  let exited = null;
  proc.once('exit', (code) => { exited = code; });
  const deadline = Date.now() + 60_000;
  while (!(await portAnswers(port))) {
    if (exited !== null) throw new Error(`the server stopped (exit ${exited}):\n${log}`);
    if (Date.now() > deadline) throw new Error(`the server did not answer on ${port} within 60 s:\n${log}`);
    await sleep(100);
  }
  const srv = { proc, out, base: `http://127.0.0.1:${port}`, log: () => log };
  servers.set(srv.base, srv);
  return srv;
}

async function stopServer(srv) {
  if (!srv) return;
  if (srv.proc.exitCode === null) {
    srv.proc.kill('SIGTERM');
    await new Promise((r) => { srv.proc.once('exit', r); setTimeout(r, 3000); });
  }
  fs.rmSync(srv.out, { recursive: true, force: true });
}

before(async () => {
  assert.ok(fs.existsSync(BIN), `${BIN}: no server binary (build it, or set WMB_BIN)`);
  fs.mkdirSync(SHOTS, { recursive: true });
  server = await startServer('2026-10-07T10:00:00-07:00');
  ({ base, out: outDir } = server);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});

after(async () => {
  if (browser) await browser.close();
  await stopServer(server);
});

// ------------------------------------------------------------------ helpers

function outbox(dir = outDir) {
  let text = '';
  try {
    text = fs.readFileSync(path.join(dir, 'outbox.jsonl'), 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

/** The 6-digit code sent to `to` after outbox line `since`. */
async function codeFor(to, since, dir = outDir) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const lines = outbox(dir).slice(since);
    const m = lines.reverse().find((l) => (l.message === 'verification_code' || l.message === 'account_code') && l.to === to);
    if (m) {
      // Six digits together, or read out one by one in a call ("4, 5, 2, 6, 5, 4").
      const spoken = /\d(?:,\s*\d){5}/.exec(String(m.body));
      const code = String(m.body).split(/\D+/).find((d) => d.length === 6) ?? (spoken && spoken[0].replace(/\D/g, ''));
      assert.ok(code, `no 6-digit code in ${JSON.stringify(m.body)}`);
      return code;
    }
    if (Date.now() > deadline) throw new Error(`no code to ${to} in the outbox since line ${since}:\n${JSON.stringify(outbox(dir).slice(since), null, 1)}`);
    await sleep(100);
  }
}

/**
 * A fresh page (its own storage) on the voters' page in `lang`; notes errors and foreign requests.
 * Now and then (a local run on 2 Dec; runs of the whole suite on 3 Dec) Chromium does not finish
 * loading the page, always waiting on ballot.js. One cause was found and removed on 3 Dec: `serve`
 * ran on tiny_http 0.12, whose task pool could queue a new connection behind the threads holding
 * Chromium's idle keep-alive connections (`a_burst_of_new_connections_…` in voters_in_control.rs).
 * `serve` now runs on hyper, and the stall was still met once in eight runs of the suite that
 * day, so its cause is not only there. `serve` is the local stand-in for API Gateway and
 * CloudFront; the deployed page does not meet it. A page that does not load in 20 s is reported,
 * with the requests still unanswered, and opened again in a new context (new connections); a test
 * fails only at the fourth.
 */
async function open(lang, { width = 1024, height = 800, query = `?lang=${lang}`, at = base, phone = false } = {}) {
  for (let attempt = 1; ; attempt += 1) {
    const touch = phone ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {};
    const context = await browser.newContext({ viewport: { width, height }, locale: 'en-US', ...touch });
    const page = await context.newPage();
    page.problems = [];
    const unanswered = new Set();
    page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') page.problems.push(`console: ${m.text()}`); });
    page.on('request', (r) => {
      unanswered.add(r.url());
      if (!r.url().startsWith(at) && !r.url().startsWith('data:')) page.problems.push(`request to another site: ${r.url()}`);
    });
    page.on('requestfinished', (r) => unanswered.delete(r.url()));
    page.on('requestfailed', (r) => unanswered.delete(r.url()));
    try {
      await page.goto(`${at}/${query}`, { timeout: 20_000 });
      await page.waitForSelector('body.ready', { timeout: 20_000 });
      return page;
    } catch (e) {
      // What the server was asked for last (its trace: times, methods and paths).
      const asked = (servers.get(at)?.log() || '').split('\n').filter((l) => l.startsWith('serve: ')).slice(-12).join(' | ');
      const what = `${at}/${query} did not load (attempt ${attempt}, now ${Date.now()}): ${e.message.split('\n')[0]}; unanswered: ${[...unanswered].join(' ') || 'none'}; the server's last requests: ${asked}`;
      await context.close();
      if (attempt === 4) throw new Error(what);
      console.log(`# ${what}; opening it once more`);
      await sleep(500);
    }
  }
}

async function close(page) {
  const { problems } = page;
  await page.context().close();
  assert.deepEqual(problems.filter((p) => !/status of 4\d\d|status of 503/.test(p)), [], 'no script errors, no request to another site');
}

/** The control labelled `key` (in the page's language) in one form. */
function field(page, form, lang, key) {
  return page.locator(`#${form}-form`).getByLabel(s(lang, key), { exact: true });
}

async function fillIdentity(page, form, lang, v) {
  await field(page, form, lang, 'first_name').fill(v.first);
  await field(page, form, lang, 'last_name').fill(v.last);
  await field(page, form, lang, 'dob').fill(v.dob);
  await field(page, form, lang, 'zip').fill(v.zip);
}

async function visibleHeading(page) {
  return page.locator('section.view:not([hidden]) h1').innerText();
}

async function expectView(page, view, lang, key) {
  await page.locator(`#view-${view}`).waitFor({ state: 'visible' });
  assert.equal(await visibleHeading(page), s(lang, key));
  assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.tagName), 'H1', `the ${view} heading has the focus`);
}

/** Fills the sign-up form and sends it; returns the outbox position before sending. */
async function signUp(page, lang, v, contacts, dir = outDir) {
  await fillIdentity(page, 'signup', lang, v);
  if (contacts.sms) await field(page, 'signup', lang, 'sms').fill(contacts.sms);
  if (contacts.email) await field(page, 'signup', lang, 'email').fill(contacts.email);
  if (contacts.voice) await field(page, 'signup', lang, 'voice').fill(contacts.voice);
  const since = outbox(dir).length;
  await page.locator('#signup-form button[type="submit"]').click();
  return since;
}

async function enterCode(page, lang, code) {
  await page.getByLabel(s(lang, 'code'), { exact: true }).fill(code);
  await page.locator('#code-submit').click();
}

/** Signs `v` up with one phone for texts, enters the code, and finishes. */
async function signUpFully(page, lang, v, phoneTyped, phoneE164) {
  const since = await signUp(page, lang, v, { sms: phoneTyped });
  await expectView(page, 'code', lang, 'code_heading');
  await enterCode(page, lang, await codeFor(phoneE164, since));
  await page.getByText(s(lang, 'code_accepted')).waitFor();
  await page.getByRole('button', { name: s(lang, 'finish'), exact: true }).click();
  await expectView(page, 'done', lang, 'done_heading');
}

/** Signs `v` up with a phone of their own on a server of its own (`dir`, its outbox), then opens
 * "my ballot" with the code sent to it. */
async function signUpThenSeeBallot(page, lang, v, phoneTyped, phoneE164, dir) {
  let since = await signUp(page, lang, v, { sms: phoneTyped }, dir);
  await expectView(page, 'code', lang, 'code_heading');
  await enterCode(page, lang, await codeFor(phoneE164, since, dir));
  await page.getByText(s(lang, 'code_accepted')).waitFor();
  await page.locator('.site-nav').getByRole('link', { name: s(lang, 'nav_ballot'), exact: true }).click();
  await fillIdentity(page, 'ballot', lang, v);
  since = outbox(dir).length;
  await page.locator('#ballot-form button[type="submit"]').click();
  await expectView(page, 'code', lang, 'code_heading');
  await enterCode(page, lang, await codeFor(phoneE164, since, dir));
  await expectView(page, 'journey', lang, 'journey_heading');
}

/** Changes the page's language the way a voter does: the menu's Language, then a language. */
async function switchLanguage(page, from, to) {
  await page.locator('.site-nav').getByRole('link', { name: navName(from, 'language'), exact: true }).click();
  await page.locator('#view-language').waitFor({ state: 'visible' });
  await page.getByRole('button', { name: NATIVE[to], exact: true }).click();
  await page.waitForFunction((l) => document.documentElement.lang === l && document.querySelector('#view-language').hidden, to);
}

async function axe(page, label) {
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.addScriptTag({ path: AXE });
  const result = await page.evaluate((tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] }), WCAG);
  return result.violations.map((v) => `${label}: ${v.id} (${v.impact}) ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
}

async function noHorizontalScroll(page) {
  return page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth);
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

// The page's address after its origin: the path, query and fragment the page writes (the test
// server's port is random, and may itself hold digits such as 555).
function address(page) {
  const u = new URL(page.url());
  return u.pathname + u.search + u.hash;
}

// ------------------------------------------------------------------ tests

test('the server serves the page, its script, its styles and its strings', async () => {
  for (const [file, type] of [['/', /text\/html/], ['/app.js', /javascript/], ['/style.css', /text\/css/], ['/i18n/es.json', /json/]]) {
    const r = await fetch(base + file);
    assert.equal(r.status, 200, `GET ${file}`);
    assert.match(r.headers.get('content-type') || '', type, `GET ${file}: Content-Type`);
  }
});

test('a request naming another host (a page elsewhere pointing its name at 127.0.0.1) is refused', async () => {
  const { port } = new URL(base);
  const ask = (method, file, hostHeader) => new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: file, headers: { Host: hostHeader, 'Content-Type': 'application/json' } }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
    req.end(method === 'POST' ? JSON.stringify({ first_name: 'Ana' }) : undefined);
  });
  for (const [method, file] of [['GET', '/'], ['POST', '/signup'], ['POST', '/ballot']]) {
    const refused = await ask(method, file, `rebound.example:${port}`);
    assert.equal(refused.status, 421, `${method} ${file}`);
    assert.doesNotMatch(refused.body, /<html|Ana/i);
    assert.notEqual((await ask(method, file, `127.0.0.1:${port}`)).status, 421, `${method} ${file} to 127.0.0.1`);
  }
});

test('a voter signs up in English, Spanish and Chinese and sees the confirmation', async () => {
  const cases = [
    { lang: 'en', v: V.daniel, contacts: { sms: '(510) 555-0142', email: 'daniel.okafor@example.com' }, to: ['+15105550142', 'daniel.okafor@example.com'] },
    { lang: 'es', v: V.jose, contacts: { sms: '510.555.0143' }, to: ['+15105550143'] },
    { lang: 'zh', v: V.wei, contacts: { sms: '510 555 0144' }, to: ['+15105550144'] },
  ];
  for (const { lang, v, contacts, to } of cases) {
    const page = await open(lang);
    assert.equal(await page.evaluate(() => document.documentElement.lang), lang);
    assert.equal(await page.locator('.site-name').innerText(), dict[lang].program);
    // On a first load the heading is shown, not focused.
    assert.equal(await visibleHeading(page), s(lang, 'signup_heading'));
    // Hours default to 08:00-20:00; the messages' language to the page's.
    assert.equal(await page.locator('#signup-notify_from').inputValue(), '08:00');
    assert.equal(await page.locator('#signup-notify_until').inputValue(), '20:00');
    assert.equal(await page.locator('#signup-language').inputValue(), lang);
    // The VoteCal ID is not asked for.
    assert.equal(await page.locator('#signup-votecal_id').isVisible(), false);

    const since = await signUp(page, lang, v, contacts);
    await expectView(page, 'code', lang, 'code_heading');
    assert.equal(await page.locator('#code-intro').innerText(), s(lang, 'code_intro_signup'));
    const input = page.getByLabel(s(lang, 'code'), { exact: true });
    assert.equal(await input.getAttribute('inputmode'), 'numeric');
    assert.equal(await input.getAttribute('autocomplete'), 'one-time-code');

    // A code to each contact typed (phones as E.164).
    for (const address of to) {
      const code = await codeFor(address, since);
      await enterCode(page, lang, code);
      await page.getByText(s(lang, 'code_accepted')).waitFor();
      // (After the first code the message is already on the page: wait for this code's answer.)
      for (const until = Date.now() + 5_000; (await input.inputValue()) !== '' && Date.now() < until; ) await sleep(50);
      assert.equal(await input.inputValue(), '', 'the code field is ready for the next code');
      // A code accepted is not the change done (a voter who signed up before must also enter
      // the code sent to their earlier contacts; the server does not say which case this is).
      const accepted = await page.locator('#code-accepted').innerText();
      assert.ok(accepted.includes(s(lang, 'code_accepted_before')), `the earlier contacts' code is asked for: ${accepted}`);
      assert.ok(accepted.includes(s(lang, 'done_text').split('{from}')[0]), 'a confirmation message is announced');
      assert.ok(!accepted.includes(s(lang, 'done_text_voice').split('{from}')[0]));
    }
    const mine = outbox().slice(since);
    assert.ok(mine.every((m) => m.language === undefined || m.language === lang), 'codes in the chosen language');
    await page.getByRole('button', { name: s(lang, 'finish'), exact: true }).click();
    await expectView(page, 'done', lang, 'done_heading');
    assert.ok((await page.locator('#done-text').innerText()).startsWith(s(lang, 'done_text').split('{from}')[0]), 'the confirmation message is announced');
    const done = await page.locator('#view-done').innerText();
    assert.ok(done.includes(s(lang, 'code_accepted_before')) && done.includes(s(lang, 'done_before')), 'the earlier contacts\' code is recalled');
    if (lang === 'en') assert.doesNotMatch(done, /saved/i, 'nothing claims the choices are saved');

    // Nothing personal in the address bar or the browser's storage.
    assert.doesNotMatch(address(page), new RegExp(`${v.last}|${v.dob}|${v.zip}|555`));
    const stored = await page.evaluate(() => Object.keys(localStorage).map((k) => `${k}=${localStorage.getItem(k)}`));
    assert.deepEqual(stored, [`wmb-language=${lang}`]);
    await close(page);
  }
});

test('my ballot: a code to the proven contacts, then the ballot\'s statuses with their dates', async () => {
  const page = await open('en');
  await signUpFully(page, 'en', V.emily, '(510) 555-0141', '+15105550141');

  await page.locator('.site-nav').getByRole('link', { name: s('en', 'nav_ballot'), exact: true }).click();
  await expectView(page, 'ballot', 'en', 'ballot_heading');
  await fillIdentity(page, 'ballot', 'en', V.emily);
  const since = outbox().length;
  await page.locator('#ballot-form button[type="submit"]').click();
  await expectView(page, 'code', 'en', 'code_heading');
  assert.equal(await page.locator('#code-intro').innerText(), s('en', 'code_intro_ballot'));
  const code = await codeFor('+15105550141', since);

  // Nothing is shown without the code: a wrong one is refused, next to the code field.
  const wrong = code === '000000' ? '111111' : '000000';
  await enterCode(page, 'en', wrong);
  const input = page.getByLabel(s('en', 'code'), { exact: true });
  await page.locator('#code-code-error').waitFor();
  assert.match(await page.locator('#code-code-error').innerText(), new RegExp(s('en', 'r_wrong_code').replace(/[.()]/g, '\\$&')));
  assert.equal(await input.getAttribute('aria-invalid'), 'true');
  assert.match(await input.getAttribute('aria-describedby'), /code-code-error/);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'code-code');
  assert.equal(await page.locator('#view-journey').isVisible(), false);
  assert.equal(await page.locator('#journey').innerText(), '');

  // As a voter may paste it: "123 456" (the field takes 9 characters; spaces and hyphens go).
  assert.equal(await input.getAttribute('maxlength'), '9');
  await enterCode(page, 'en', `${code.slice(0, 3)} ${code.slice(3)}`);
  await expectView(page, 'journey', 'en', 'journey_heading');
  const journey = page.locator('#journey');
  await journey.getByRole('heading', { level: 2, name: '2026 General Election' }).waitFor();
  const text = await journey.innerText();
  assert.match(text, /November 3, 2026/, 'the election date');
  assert.match(text, new RegExp(s('en', 'county_name', { county: 'Alameda' })));
  assert.match(text, new RegExp(s('en', 'm_outbound')), 'the ballot was mailed');
  const mailed = journey.locator('.events li', { hasText: s('en', 'm_outbound') });
  assert.equal(await mailed.locator('time').innerText(), 'October 5, 2026', 'mailed on October 5');
  assert.match(await journey.locator('.status-box .status-name').innerText(), new RegExp(s('en', 'm_outbound')));
  assert.match(await journey.locator('.status-box').innerText(), new RegExp(s('en', 'n_outbound').slice(0, 40)));
  await close(page);
});

test('my ballot in Chinese: the statuses, the mail scan with its facility ZIP, dates in Chinese', async () => {
  // Wei Zhang signed up in the first test (his second request in ten minutes).
  const page = await open('zh');
  await page.locator('.site-nav').getByRole('link', { name: s('zh', 'nav_ballot'), exact: true }).click();
  await fillIdentity(page, 'ballot', 'zh', V.wei);
  const since = outbox().length;
  await page.locator('#ballot-form button[type="submit"]').click();
  await expectView(page, 'code', 'zh', 'code_heading');
  await enterCode(page, 'zh', await codeFor('+15105550144', since));
  await expectView(page, 'journey', 'zh', 'journey_heading');
  const text = await page.locator('#journey').innerText();
  assert.match(text, /2026年普選/, 'the election name in Chinese');
  assert.match(text, /2026年11月3日/, 'the election date in Chinese');
  // Los Angeles tracks envelopes: the Postal Service's scan on Oct 6 told first that the
  // ballot was mailed (the county's ISSUED came later, and adds nothing).
  assert.match(text, new RegExp(s('zh', 'm_outbound')));
  assert.match(text, /2026年10月6日/);
  assert.match(text, new RegExp(s('zh', 'scan_outbound', { zip: '90052' }).replace(/[()（）]/g, '.')), 'the outbound scan and its facility ZIP');
  await close(page);
});

test('after the cure deadline, a problem to fix is shown as past its deadline, not as something she can still fix', async () => {
  // Ravi Patel's ballot (San Diego) needed his information (INF, November 4) and was never fixed;
  // San Diego's deadline was 5 p.m. on December 1.
  const late = await startServer('2026-12-02T10:00:00-08:00');
  try {
    const page = await open('en', { at: late.base });
    await signUpThenSeeBallot(page, 'en', V.ravi, '(858) 555-0161', '+18585550161', late.out);
    const journey = page.locator('#journey');
    assert.match(await journey.locator('.status-name').innerText(), new RegExp(s('en', 'm_contact_county')));
    const box = await journey.locator('.status-box').innerText();
    assert.ok(!box.includes(s('en', 'n_contact_county')), 'not "you can fix this"');
    assert.match(box, /The deadline to fix this was 5:00\sPM PST on December 1, 2026, and it has passed/);
    assert.match(await journey.locator('.status-box .status-reason').innerText(), /more information/, 'why, still next to the status');
    assert.equal(await journey.locator('.status-box .deadline').count(), 0, 'no deadline still to meet');
    assert.equal(await journey.locator('.action-box').count(), 0, 'nothing asked of him');
    const contact = journey.locator('.contact-box');
    await contact.getByRole('heading', { level: 3, name: s('en', 'contact_heading') }).waitFor();
    assert.equal(await contact.getByRole('link', { name: '(858) 555-0137' }).getAttribute('href'), 'tel:+18585550137');
    // In Hindi, the same, in the page's language
    await switchLanguage(page, 'en', 'hi');
    const hi = await journey.locator('.status-box').innerText();
    const tail = dict.hi.c_contact_county.split('}').pop().trim();
    assert.ok(tail.length > 10 && hi.includes(tail), 'the deadline passed, in Hindi');
    assert.ok(!hi.includes(s('hi', 'n_contact_county')));
    await shot(page, 'journey-too-late-hi');
    assert.deepEqual(await axe(page, 'journey too late hi'), []);
    await close(page);
  } finally {
    await stopServer(late);
  }
});

test('a ballot that needs the voter: the reason, what to do next, the county\'s phone, email and website', async () => {
  // Later in the election: Yuki Tanaka's signature did not match (NMS, October 19).
  const later = await startServer('2026-10-22T10:00:00-07:00');
  try {
    const page = await open('ja', { at: later.base });
    await signUpThenSeeBallot(page, 'ja', V.yuki, '(510) 555-0151', '+15105550151', later.out);
    const journey = page.locator('#journey');
    assert.match(await journey.locator('.status-name').innerText(), new RegExp(s('ja', 'm_contact_county')));
    assert.match(await journey.locator('.status-box .status-reason').innerText(), /封筒の署名が、登録されている署名と一致しません/, 'the reason, next to the status');
    // Until when: Los Angeles's cure deadline, 5 p.m. on E+28, in Japanese
    const deadline = await journey.locator('.status-box .deadline').innerText();
    assert.ok(deadline.startsWith(dict.ja.fix_by.split('{')[0]) && /2026年12月1日/.test(deadline) && /17:00/.test(deadline), deadline);
    const action = journey.locator('.action-box');
    await action.getByRole('heading', { level: 3, name: s('ja', 'action_heading') }).waitFor();
    assert.equal(await action.getByRole('link', { name: '(800) 555-0119' }).getAttribute('href'), 'tel:+18005550119');
    assert.equal(await action.getByRole('link', { name: 'vbm@lavote.example.gov' }).getAttribute('href'), 'mailto:vbm@lavote.example.gov');
    assert.equal(await action.getByRole('link', { name: 'https://lavote.example.gov' }).getAttribute('href'), 'https://lavote.example.gov');
    const events = await journey.locator('.events').innerText();
    assert.match(events, /封筒の署名が、登録されている署名と一致しません/, 'the reason, in Japanese');
    assert.match(events, /2026年10月19日/);
    await shot(page, 'journey-action-ja');
    assert.deepEqual(await axe(page, 'journey-action ja'), []);
    await close(page);
  } finally {
    await stopServer(later);
  }
});

test('a refusal (no such voter) shows the guidance\'s advice in the page\'s language, tied to the form', async () => {
  const page = await open('es');
  await signUp(page, 'es', { ...V.emily, first: 'Emilia' }, { sms: '(510) 555-0149' });
  const summary = page.locator('#signup-summary');
  await summary.waitFor({ state: 'visible' });
  const text = await summary.innerText();
  assert.match(text, new RegExp(s('es', 'errors_title')));
  assert.ok(text.includes(s('es', 'r_no_match')), `the advice in Spanish: ${text}`);
  assert.match(text, /My Voter Status/);
  assert.equal(await summary.getByRole('link', { name: 'https://voterstatus.sos.ca.gov' }).getAttribute('href'), 'https://voterstatus.sos.ca.gov');
  assert.equal(await summary.getAttribute('role'), null, 'focused, so not an alert too (read out once)');
  assert.equal(await page.locator('#signup-form').getAttribute('aria-describedby'), 'signup-summary');
  assert.equal(await page.locator('#signup-form #signup-summary').count(), 1, 'inside the form');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'signup-summary');
  assert.equal(await page.locator('#view-signup').isVisible(), true, 'the voter stays on the form');
  await shot(page, 'refusal-es');
  const violations = await axe(page, 'refusal es');
  assert.deepEqual(violations, []);
  await close(page);
});

test('a phone number the service cannot text is refused next to its field (400 sms)', async () => {
  const page = await open('tl');
  // Toronto: +1, but not the US.
  await signUp(page, 'tl', V.rosa, { sms: '(416) 555-0123' });
  const sms = field(page, 'signup', 'tl', 'sms');
  await page.locator('#signup-sms-error').waitFor();
  assert.match(await page.locator('#signup-sms-error').innerText(), new RegExp(s('tl', 'err_sms').replace(/[.()]/g, '\\$&')));
  assert.equal(await sms.getAttribute('aria-invalid'), 'true');
  assert.match(await sms.getAttribute('aria-describedby'), /signup-sms-error/);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'signup-sms');
  await close(page);
});

test('calls in a language whose recordings are not in are refused next to the phone-call field, in the page\'s language', async () => {
  // The sample election without its recorded prompts: no call can be made in Vietnamese
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wmb-no-prompts-'));
  fs.cpSync(path.join(root, 'events/sample-election'), dir, { recursive: true });
  fs.rmSync(path.join(dir, 'voice-prompts.toml'));
  const bare = await startServer('2026-10-07T10:00:00-07:00', dir);
  try {
    const page = await open('vi', { at: bare.base });
    await signUp(page, 'vi', V.hannah, { voice: '(510) 555-0152' }, bare.out);
    const voice = field(page, 'signup', 'vi', 'voice');
    await page.locator('#signup-voice-error').waitFor();
    const said = await page.locator('#signup-voice-error').innerText();
    assert.ok(said.includes(s('vi', 'r_calls_unavailable')), said);
    assert.equal(await voice.getAttribute('aria-invalid'), 'true');
    assert.match(await voice.getAttribute('aria-describedby'), /signup-voice-error/);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'signup-voice');
    assert.equal(outbox(bare.out).length, 0, 'no code was called to the phone');
    // AND with texts instead, she goes on to her code
    await voice.fill('');
    await signUp(page, 'vi', V.hannah, { sms: '(510) 555-0152' }, bare.out);
    await expectView(page, 'code', 'vi', 'code_heading');
    await close(page);
  } finally {
    await stopServer(bare);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the twins are asked for their VoteCal ID, with the VoteCal Help Desk\'s number', async () => {
  const page = await open('ja');
  await signUp(page, 'ja', V.maria, { sms: '(510) 555-0150' });
  const votecal = field(page, 'signup', 'ja', 'votecal');
  await votecal.waitFor({ state: 'visible' });
  assert.equal(await page.evaluate(() => document.activeElement.id), 'signup-votecal_id', 'the focus goes to the new field');
  assert.ok((await page.locator('#signup-summary').innerText()).includes(s('ja', 'r_needs_votecal_id')));
  const help = page.locator('#signup-votecal_id-hint');
  assert.match(await help.innerText(), /\(916\) 654-1141/);
  assert.equal(await help.getByRole('link', { name: '(916) 654-1141' }).getAttribute('href'), 'tel:+19166541141');
  assert.match(await votecal.getAttribute('aria-describedby'), /signup-votecal_id-hint/);
  await shot(page, 'votecal-ja');

  await votecal.fill('CA000000110');
  const since = outbox().length;
  await page.locator('#signup-form button[type="submit"]').click();
  await expectView(page, 'code', 'ja', 'code_heading');
  await enterCode(page, 'ja', await codeFor('+15105550150', since));
  await page.getByText(s('ja', 'code_accepted')).waitFor();
  await close(page);
});

test('a voter stops all messages with a code sent to their proven contacts', async () => {
  const page = await open('vi');
  await signUpFully(page, 'vi', V.hannah, '(510) 555-0146', '+15105550146');

  await page.locator('.site-nav').getByRole('link', { name: s('vi', 'nav_stop'), exact: true }).click();
  await expectView(page, 'stop', 'vi', 'stop_heading');
  await fillIdentity(page, 'stop', 'vi', V.hannah);
  const form = page.locator('#stop-form');
  const sms = form.getByLabel(s('vi', 'stop_sms'), { exact: true });
  const all = form.getByRole('radio', { name: s('vi', 'stop_all'), exact: true });
  const only = form.getByRole('radio', { name: s('vi', 'stop_only'), exact: true });
  assert.equal(await sms.isVisible(), false, 'the kinds of messages wait for "Only these"');
  // "Only these" and no kind: the error is tied to the choice's fieldset.
  await only.check();
  await sms.waitFor({ state: 'visible' });
  await form.locator('button[type="submit"]').click();
  await page.locator('#stop-channels-error').waitFor();
  assert.match(await page.locator('#stop-channels-error').innerText(), new RegExp(s('vi', 'err_channels_some').slice(0, 20)));
  assert.match(await page.locator('#stop-channels').getAttribute('aria-describedby'), /stop-channels-error/);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'stop-ch-sms', 'the focus goes to the first kind');
  assert.deepEqual(await axe(page, 'stop only vi'), []);
  await shot(page, 'stop-only-vi');
  await sms.check();
  // "All messages": the kinds are put away (still ticked, but not what is asked for).
  await all.check();
  assert.equal(await only.isChecked(), false);
  assert.equal(await sms.isVisible(), false);
  const since = outbox().length;
  await form.locator('button[type="submit"]').click();
  await expectView(page, 'code', 'vi', 'code_heading');
  assert.equal(await page.locator('#code-intro').innerText(), s('vi', 'code_intro_stop'));
  await enterCode(page, 'vi', await codeFor('+15105550146', since));
  await expectView(page, 'stopped', 'vi', 'stopped_heading');
  assert.equal(await page.locator('#stopped-text').innerText(), s('vi', 'stopped_all'));
  await close(page);
});

test('Back and Forward: the code is a step in the history, kept while the page holds it; calls only: no confirmation', async () => {
  const samuel = { first: 'Samuel', last: 'Wright', dob: '06-28-1947', zip: '94501' };
  const page = await open('en');
  // Only phone calls: no confirmation message will come.
  const since = await signUp(page, 'en', samuel, { voice: '(510) 555-0152' });
  await expectView(page, 'code', 'en', 'code_heading');
  // "Start again" (the way out of this step) is a real button with a 44 px touch target.
  const restart = page.getByRole('button', { name: s('en', 'start_again'), exact: true });
  assert.ok((await restart.boundingBox()).height >= 44, 'a 44 px touch target');

  // Back: the form again, as it was filled, with the way back to the code.
  await page.goBack();
  await expectView(page, 'signup', 'en', 'signup_heading');
  assert.equal(await field(page, 'signup', 'en', 'first_name').inputValue(), 'Samuel', 'the form keeps what was typed');
  const resume = page.locator('#signup-pending').getByRole('button', { name: s('en', 'code_pending_button'), exact: true });
  await resume.waitFor({ state: 'visible' });
  assert.ok(!address(page).includes('#code') && !/Samuel|555|1947/.test(address(page)), 'nothing personal in the address');
  assert.deepEqual(await page.evaluate(() => history.state), { view: 'signup' }, 'the history holds view names only');
  assert.deepEqual(await axe(page, 'signup pending en'), []);

  // Forward: the code view again, still waiting for the same code.
  await page.goForward();
  await expectView(page, 'code', 'en', 'code_heading');
  assert.equal(await page.locator('#code-intro').innerText(), s('en', 'code_intro_signup'));
  assert.deepEqual(await page.evaluate(() => history.state), { view: 'code' });

  // Back, then the form's own way back to the code.
  await page.goBack();
  await expectView(page, 'signup', 'en', 'signup_heading');
  await resume.click();
  await expectView(page, 'code', 'en', 'code_heading');
  await enterCode(page, 'en', await codeFor('+15105550152', since));
  await page.getByText(s('en', 'code_accepted')).waitFor();
  const accepted = await page.locator('#code-accepted').innerText();
  assert.ok(accepted.includes(s('en', 'code_accepted_before')));
  const voiceOnly = s('en', 'done_text_voice').split('{from}')[0];
  assert.ok(accepted.includes(voiceOnly) && !accepted.includes(s('en', 'done_text').split('{from}')[0]), `calls only: no confirmation message: ${accepted}`);
  await page.getByRole('button', { name: s('en', 'finish'), exact: true }).click();
  await expectView(page, 'done', 'en', 'done_heading');
  assert.ok((await page.locator('#done-text').innerText()).startsWith(voiceOnly));

  // The final view took the code's place: Back is the form, emptied; the code is gone.
  await page.goBack();
  await expectView(page, 'signup', 'en', 'signup_heading');
  assert.equal(await field(page, 'signup', 'en', 'first_name').inputValue(), '');
  assert.equal(await page.locator('#signup-pending').isVisible(), false);
  await page.goForward();
  await expectView(page, 'done', 'en', 'done_heading');

  // "Start again" drops the code (the server stands in: Samuel is signed up now).
  await page.route('**/signup', (route) => route.fulfill({ status: 202, contentType: 'application/json', body: JSON.stringify({ status: 'codes_sent', change_id: 'Zx3_k9Qm-Ab12Cd34Ef56g', expires_in_seconds: 900 }) }));
  await page.locator('.site-nav').getByRole('link', { name: navName('en', 'signup'), exact: true }).click();
  await signUp(page, 'en', samuel, { voice: '(510) 555-0152' });
  await expectView(page, 'code', 'en', 'code_heading');
  await restart.click();
  await expectView(page, 'signup', 'en', 'signup_heading');
  assert.equal(await page.locator('#signup-pending').isVisible(), false);
  await close(page);
});

test('a reload on the code step comes back to it, its code still to be entered; nothing personal is kept', async () => {
  // A phone often reloads a tab the voter left to read her code in her messages.
  const olivia = { first: 'Olivia', last: 'Brown', dob: '05-25-1993', zip: '91910' };
  const page = await open('es');
  const since = await signUp(page, 'es', olivia, { sms: '(510) 555-3001' });
  await expectView(page, 'code', 'es', 'code_heading');
  await page.reload();
  await page.waitForSelector('body.ready');
  // (As at any page load, the focus stays at the top of the page.)
  await page.locator('#view-code').waitFor({ state: 'visible' });
  assert.equal(await visibleHeading(page), s('es', 'code_heading'));
  assert.equal(await page.locator('#code-intro').innerText(), s('es', 'code_intro_signup'));
  const kept = await page.evaluate(() => JSON.stringify(sessionStorage));
  // (Her name, birth date, ZIP and phone in any spelling; not any run of digits: the time the
  // step began, kept in milliseconds, may hold "555" or "1993".)
  assert.ok(!/Olivia|Brown|05.25.1993|1993.05.25|\b91910\b|555.?3001|\(510\)/.test(kept), `nothing personal kept: ${kept}`);
  // The code sent before the reload is taken
  await enterCode(page, 'es', await codeFor('+15105553001', since));
  await page.getByText(s('es', 'code_accepted')).waitFor();
  await page.getByRole('button', { name: s('es', 'finish'), exact: true }).click();
  await expectView(page, 'done', 'es', 'done_heading');
  // Once the step is over, a reload does not bring it back
  await page.reload();
  await page.waitForSelector('body.ready');
  assert.equal(await page.locator('#view-code').isVisible(), false);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('wmb-code')), null);
  await close(page);
});

test('answers the page does not trust: field names, links, the county\'s email; an unknown status shows the county', async () => {
  const page = await open('en');
  const signupForm = page.locator('#signup-form');
  const fillSignup = async () => {
    await fillIdentity(page, 'signup', 'en', V.emily);
    await field(page, 'signup', 'en', 'sms').fill('(510) 555-0199');
  };

  // A slow answer: the form is busy, "Sending…" is said once, the button keeps its contrast;
  // then a field name that is not one of the page's: no selector is built from it.
  let release;
  const held = new Promise((r) => { release = r; });
  await page.route('**/signup', async (route) => {
    await held;
    await route.fulfill({ status: 400, contentType: 'application/json', body: JSON.stringify({ status: 'invalid', field: 'zip"], #x, [a="', reason: 'bad' }) });
  });
  await fillSignup();
  await signupForm.locator('button[type="submit"]').click();
  await page.waitForFunction((text) => document.querySelector('#signup-form .sending').innerText === text, s('en', 'sending'));
  assert.equal(await signupForm.getAttribute('aria-busy'), null, 'not a busy region: its status is read out');
  assert.equal(await signupForm.locator('.sending').getAttribute('role'), 'status');
  assert.equal(await signupForm.locator('button[type="submit"]').evaluate((b) => getComputedStyle(b).opacity), '1', 'no faded text on the busy button');
  release();
  await page.locator('#signup-summary').waitFor({ state: 'visible' });
  assert.equal(await signupForm.locator('.sending').innerText(), '', 'no longer sending once the answer is shown');
  assert.ok((await page.locator('#signup-summary').innerText()).includes(s('en', 'err_unknown')));
  await page.unroute('**/signup');

  // Advice with addresses: only https on *.ca.gov becomes a link.
  await page.route('**/signup', (route) => route.fulfill({ status: 422, contentType: 'application/json', body: JSON.stringify({
    status: 'refused', reason: 'something_new',
    advice: 'See https://www.sos.ca.gov/elections or https://evil.example.com/ca.gov or http://sos.ca.gov/x or https://ca.gov.evil.example/x.',
  }) }));
  await signupForm.locator('button[type="submit"]').click();
  const summary = page.locator('#signup-summary');
  await summary.getByText('evil.example.com').waitFor();
  assert.deepEqual(await summary.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href'))), ['https://www.sos.ca.gov/elections']);
  await page.unroute('**/signup');

  // My ballot, answered by a stand-in: an unknown status with its county; a county email that
  // would add to a mailto: link; a website that is not https.
  const changeId = 'Zx3_k9Qm-Ab12Cd34Ef56g';
  await page.route('**/ballot', (route) => route.fulfill({ status: 202, contentType: 'application/json', body: JSON.stringify({ status: 'codes_sent', change_id: changeId, expires_in_seconds: 900 }) }));
  await page.route('**/ballot/view', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({
    status: 'verified',
    elections: [
      {
        election_id: 'e1', election_name: 'Test Election', election_date: '2026-11-03', county_name: 'Alameda',
        county_contact: { phone: '(510) 555-0100', email: 'vbm@acvote.example.gov?cc=x@evil.example', url: 'javascript:alert(1)' },
        current: 'something_new', needs_action: false, events: [],
      },
      {
        election_id: 'e2', election_name: 'Second Election', election_date: '2026-11-03', county_name: 'Los Angeles',
        county_contact: { phone: '(800) 555-0119', email: 'vbm@lavote.example.gov', url: 'https://lavote.example.gov' },
        current: 'contact_county', needs_action: true,
        events: [
          { type: 'status', at: '2026-10-05T10:00:00-07:00', milestone: 'outbound', reason: null },
          { type: 'status', at: '2026-10-19T10:00:00-07:00', milestone: 'contact_county', reason: 'the signature on the envelope does not match' },
        ],
      },
      {
        election_id: 'e3', election_name: 'Third Election', election_date: '2026-11-03', county_name: 'Los Angeles',
        county_contact: { phone: '(800) 555-0119', email: 'vbm@lavote.example.gov', url: 'https://lavote.example.gov' },
        current: 'contact_county', needs_action: false, act_by: null, too_late: false, in_review: true,
        events: [{ type: 'status', at: '2026-10-19T10:00:00-07:00', milestone: 'contact_county', reason: 'the signature on the envelope does not match' }],
      },
      {
        election_id: 'e4', election_name: 'Fourth Election', election_date: '2026-11-03', county_name: 'Los Angeles',
        county_contact: { phone: '(800) 555-0119', email: 'vbm@lavote.example.gov', url: 'https://lavote.example.gov' },
        current: 'undeliverable', needs_action: true, act_by: '2026-11-04T04:00:00Z', too_late: false, in_review: false,
        events: [{ type: 'status', at: '2026-10-12T10:00:00-07:00', milestone: 'undeliverable', reason: null }],
      },
      {
        election_id: 'e5', election_name: 'Fifth Election', election_date: '2026-06-02', county_name: 'Los Angeles',
        county_contact: { phone: '(800) 555-0119', email: 'vbm@lavote.example.gov', url: 'https://lavote.example.gov' },
        current: 'not_accepted', needs_action: false, act_by: '2026-06-03T03:00:00Z', too_late: true, in_review: false,
        events: [{ type: 'status', at: '2026-06-10T10:00:00-07:00', milestone: 'not_accepted', reason: 'it arrived too late' }],
      },
    ],
  }) }));
  await page.locator('.site-nav').getByRole('link', { name: navName('en', 'ballot'), exact: true }).click();
  await fillIdentity(page, 'ballot', 'en', V.emily);
  await page.locator('#ballot-form button[type="submit"]').click();
  await expectView(page, 'code', 'en', 'code_heading');
  await enterCode(page, 'en', '123-456');
  await expectView(page, 'journey', 'en', 'journey_heading');
  const [first, second, third, fourth, fifth] = await page.locator('#journey article').all();
  // Not accepted after the polls closed: voting has ended, and no time to vote by
  assert.ok((await fifth.locator('.status-box').innerText()).includes(s('en', 'c_not_accepted')));
  assert.equal(await fifth.locator('.deadline').count(), 0);
  // Undeliverable before the polls close: until when she can still vote, with its time zone
  const voteBy = await fourth.locator('.deadline').innerText();
  assert.ok(voteBy.startsWith(s('en', 'vote_by').split('{')[0]) && /8:00\sPM PST/.test(voteBy) && /November 3, 2026/.test(voteBy), voteBy);
  assert.ok((await fourth.locator('.status-box').innerText()).includes(s('en', 'n_undeliverable')));
  // Back in review after her statement: nothing asked of her, nor said to be fixable
  const reviewing = await third.locator('.status-box').innerText();
  assert.ok(reviewing.includes(s('en', 'review_contact_county')) && !reviewing.includes(s('en', 'n_contact_county')), reviewing);
  assert.equal(await third.locator('.action-box').count(), 0);
  assert.equal(await first.locator('.status-name').innerText(), s('en', 'status_unknown'));
  const box = first.locator('.contact-box');
  await box.getByRole('heading', { level: 3, name: s('en', 'contact_heading') }).waitFor();
  assert.equal(await box.getByRole('link', { name: '(510) 555-0100' }).getAttribute('href'), 'tel:+15105550100');
  assert.equal(await first.locator('a[href^="mailto:"], a[href^="javascript:"]').count(), 0, 'no mailto: with extra headers, no javascript: link');
  assert.match(await second.locator('.status-box').innerText(), /Because the signature on the envelope does not match\./, 'the reason next to the status');
  assert.equal(await second.getByRole('link', { name: 'vbm@lavote.example.gov' }).getAttribute('href'), 'mailto:vbm@lavote.example.gov');
  assert.deepEqual(await axe(page, 'journey unknown en'), []);

  // Leaving the page: what the code unlocked and the forms are forgotten (back-forward cache).
  await page.locator('.site-nav').getByRole('link', { name: navName('en', 'signup'), exact: true }).click();
  await fillIdentity(page, 'signup', 'en', V.emily);
  await page.evaluate(() => window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true })));
  assert.equal(await field(page, 'signup', 'en', 'first_name').inputValue(), '');
  assert.equal(await page.locator('#journey').innerText(), '');
  await close(page);
});

test('the menu\'s Language link is recognisable in any language; Khmer keeps 03-14-1985 on one line', async () => {
  const page = await open('km');
  const link = page.locator('.site-nav a.nav-language');
  assert.equal(await link.innerText(), `Language / ${dict.km.nav_language}`);
  assert.equal(await link.locator('[lang="en"]').innerText(), 'Language');
  assert.equal(await link.locator('svg').getAttribute('aria-hidden'), 'true');
  const date = page.locator('#signup-date_of_birth-hint .nowrap', { hasText: '03-14-1985' });
  assert.equal(await date.evaluate((el) => getComputedStyle(el).whiteSpace), 'nowrap');
  // The warning about changing: every contact to keep.
  assert.equal(await page.locator('#signup-contacts-keep strong').innerText(), s('km', 'signup_keep'));
  assert.match(await page.locator('#signup-contacts').getAttribute('aria-describedby'), /signup-contacts-keep/);
  await close(page);
});

test('the language chooser: native names, remembered, sets <html lang>', async () => {
  const page = await open('en', { query: '' });
  await page.locator('#view-language').waitFor({ state: 'visible' });
  for (const l of LANGS) {
    const b = page.getByRole('button', { name: NATIVE[l], exact: true });
    assert.equal(await b.getAttribute('lang'), l);
  }
  await page.getByRole('button', { name: NATIVE.th, exact: true }).click();
  await expectView(page, 'signup', 'th', 'signup_heading');
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'th');
  assert.match(await page.title(), new RegExp(s('th', 'signup_heading')));
  await page.goto(`${base}/`);
  await page.waitForSelector('body.ready');
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'th', 'remembered');
  assert.equal(await visibleHeading(page), s('th', 'signup_heading'));
  await close(page);
});

test('a language that fails to load says so, and the next tap loads it', async () => {
  const page = await open('en', { query: '' });
  await page.locator('#view-language').waitFor({ state: 'visible' });
  // A weak signal: the first download of the Vietnamese strings fails
  let failures = 1;
  await page.route('**/i18n/vi.json', (route) => (failures-- > 0 ? route.abort('failed') : route.continue()));
  await page.getByRole('button', { name: NATIVE.vi, exact: true }).click();
  const failed = page.locator('#language-failed');
  await failed.waitFor({ state: 'visible' });
  assert.equal(await failed.innerText(), s('en', 'err_network'));
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en', 'still in English');
  await page.getByRole('button', { name: NATIVE.vi, exact: true }).click();
  await expectView(page, 'signup', 'vi', 'signup_heading');
  assert.equal(await failed.isHidden(), true);
  await page.unroute('**/i18n/vi.json');
  page.problems = page.problems.filter((p) => !/ERR_FAILED/.test(p)); // (the download we failed)
  await close(page);
});

test('a date of birth and ZIP typed in full-width or Khmer digits, or as 03.14.1985, are read', async () => {
  const page = await open('en');
  const since = outbox(outDir).length;
  await fillIdentity(page, 'signup', 'en', { ...V.emily, dob: '０３.１４.１９８５', zip: '៩៤៦១២' });
  await field(page, 'signup', 'en', 'sms').fill('(510) 555-0101');
  await page.locator('#signup-form button[type="submit"]').click();
  await expectView(page, 'code', 'en', 'code_heading');
  assert.ok(outbox(outDir).length > since, 'a code went out: the voter was found');
  await close(page);
});

test('a date of birth shows as the page read it; codes by call in a language no voice speaks are said to come in English', async () => {
  const page = await open('en');
  const dob = field(page, 'signup', 'en', 'dob');
  const read = page.locator('#signup-date_of_birth-read');
  assert.equal(await read.innerText(), '');
  assert.match(await dob.getAttribute('aria-describedby'), /\bsignup-date_of_birth-read\b/, 'read out with the field');
  // A voter born on 5 March types the day first: the page shows the day it will send
  await dob.fill('05-03-1950');
  assert.equal(await read.innerText(), s('en', 'dob_read_as', { date: 'May 3, 1950' }));
  await dob.fill('31-12-1950');
  assert.equal(await read.innerText(), '', 'no such date: nothing to show, the error comes on sending');
  // Messages in Vietnamese: the call that reads a code will be in English, and the field says so
  const note = page.locator('#signup-voice-code');
  assert.equal(await note.isHidden(), true);
  await field(page, 'signup', 'en', 'msg_language').selectOption('vi');
  assert.equal(await note.innerText(), s('en', 'voice_code_english'));
  assert.match(await field(page, 'signup', 'en', 'voice').getAttribute('aria-describedby'), /\bsignup-voice-code\b/);
  await field(page, 'signup', 'en', 'msg_language').selectOption('es');
  assert.equal(await note.isHidden(), true);
  assert.doesNotMatch(await field(page, 'signup', 'en', 'voice').getAttribute('aria-describedby'), /signup-voice-code/);
  await close(page);
  // In Spanish, the date is written in Spanish; on a page in Thai, Thai messages get the note at once
  const es = await open('es');
  await field(es, 'signup', 'es', 'dob').fill('05-03-1950');
  assert.equal(await es.locator('#signup-date_of_birth-read').innerText(), s('es', 'dob_read_as', { date: '3 de mayo de 1950' }));
  await close(es);
  const th = await open('th');
  assert.equal(await th.locator('#signup-voice-code').innerText(), s('th', 'voice_code_english'));
  await close(th);
});

test('keyboard only: the sign-up form in a logical order, errors focus their field', async () => {
  const page = await open('ko');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'skip-link');
  await page.keyboard.press('Enter');
  const order = [];
  for (let i = 0; i < 40 && order[order.length - 1] !== 'submit'; i++) {
    await page.keyboard.press('Tab');
    order.push(await page.evaluate(() => {
      const el = document.activeElement;
      return el.type === 'submit' ? 'submit' : el.id || el.getAttribute('href') || el.tagName;
    }));
  }
  const ids = order.filter((x) => x.startsWith('signup-'));
  assert.deepEqual(ids, ['signup-first_name', 'signup-last_name', 'signup-date_of_birth', 'signup-zip', 'signup-sms', 'signup-email', 'signup-voice', 'signup-language', 'signup-notify_from', 'signup-notify_until']);
  await page.keyboard.press('Enter');
  await page.locator('#signup-first_name-error').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'signup-first_name');
  assert.match(await page.locator('#signup-summary').innerText(), new RegExp(s('ko', 'err_date_of_birth').slice(0, 12)));
  assert.match(await page.locator('#signup-contacts-error').innerText(), new RegExp(s('ko', 'err_contacts').slice(0, 12)));
  assert.match(await page.locator('#signup-contacts').getAttribute('aria-describedby'), /signup-contacts-error/, 'the error belongs to the contacts fieldset');
  assert.match(await page.locator('#signup-sms').getAttribute('aria-describedby'), /signup-contacts-error/);
  await close(page);
});

test('axe-core finds no WCAG 2.1 A/AA violation on any view in any of the ten languages', async () => {
  const violations = [];
  const narrow = [];
  const check = async (page, view, lang) => {
    violations.push(...await axe(page, `${view} ${lang}`));
    await shot(page, `${view}-${lang}`);
    await page.setViewportSize({ width: 320, height: 640 });
    if (!(await noHorizontalScroll(page))) narrow.push(`${view} ${lang}`);
    await page.setViewportSize({ width: 1024, height: 800 });
  };

  // The forms, the language chooser and an error state, loaded in each language.
  for (const lang of LANGS) {
    const page = await open(lang);
    await check(page, 'signup', lang);
    await page.locator('.site-nav').getByRole('link', { name: navName(lang, 'language'), exact: true }).click();
    await page.locator('#view-language').waitFor({ state: 'visible' });
    await check(page, 'language', lang);
    await page.getByRole('button', { name: NATIVE[lang], exact: true }).click();
    await page.locator('#view-signup').waitFor({ state: 'visible' });
    await page.locator('#signup-form button[type="submit"]').click();
    await page.locator('#signup-summary').waitFor({ state: 'visible' });
    await check(page, 'error', lang);
    await page.locator('.site-nav').getByRole('link', { name: s(lang, 'nav_ballot'), exact: true }).click();
    await check(page, 'ballot', lang);
    await page.locator('.site-nav').getByRole('link', { name: s(lang, 'nav_stop'), exact: true }).click();
    await check(page, 'stop', lang);
    await close(page);
  }

  // The views a code leads to: reached once, then seen in each language (the page keeps its
  // state when the language changes).
  const eachLanguage = async (page, view, from) => {
    let current = from;
    for (const lang of [from, ...LANGS.filter((l) => l !== from)]) {
      if (lang !== current) await switchLanguage(page, current, lang);
      current = lang;
      await page.locator(`#view-${view}`).waitFor({ state: 'visible' });
      await check(page, view, lang);
    }
    await switchLanguage(page, current, from);
  };

  const page = await open('en');
  const since = await signUp(page, 'en', V.jiwoo, { sms: '(510) 555-0147' });
  await expectView(page, 'code', 'en', 'code_heading');
  await eachLanguage(page, 'code', 'en');
  await enterCode(page, 'en', await codeFor('+15105550147', since));
  await page.getByText(s('en', 'code_accepted')).waitFor();
  await page.getByRole('button', { name: s('en', 'finish'), exact: true }).click();
  await eachLanguage(page, 'done', 'en');

  await page.locator('.site-nav').getByRole('link', { name: s('en', 'nav_ballot'), exact: true }).click();
  await fillIdentity(page, 'ballot', 'en', V.jiwoo);
  const since2 = outbox().length;
  await page.locator('#ballot-form button[type="submit"]').click();
  await expectView(page, 'code', 'en', 'code_heading');
  await enterCode(page, 'en', await codeFor('+15105550147', since2));
  await expectView(page, 'journey', 'en', 'journey_heading');
  await eachLanguage(page, 'journey', 'en');
  await close(page);

  const page2 = await open('en');
  await signUpFully(page2, 'en', V.yuki, '(510) 555-0148', '+15105550148');
  await page2.locator('.site-nav').getByRole('link', { name: s('en', 'nav_stop'), exact: true }).click();
  await fillIdentity(page2, 'stop', 'en', V.yuki);
  await page2.locator('#stop-form').getByLabel(s('en', 'stop_all'), { exact: true }).check();
  const since3 = outbox().length;
  await page2.locator('#stop-form button[type="submit"]').click();
  await expectView(page2, 'code', 'en', 'code_heading');
  await enterCode(page2, 'en', await codeFor('+15105550148', since3));
  await expectView(page2, 'stopped', 'en', 'stopped_heading');
  await eachLanguage(page2, 'stopped', 'en');
  await close(page2);

  assert.deepEqual(violations, [], 'axe-core violations');
  assert.deepEqual(narrow, [], 'views that scroll sideways at 320 px');
});

test('200% text on a 360 px phone: no view scrolls sideways, in any language', async () => {
  // A phone's larger text, as the browser's default font size (WCAG 1.4.4 and 1.4.10): the
  // language chooser, the sign-up form with its errors and its warning, stop with its choices.
  const wide = [];
  for (const lang of LANGS) {
    const page = await open(lang, { width: 360, height: 740, phone: true });
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Page.setFontSizes', { fontSizes: { standard: 32, fixed: 26 } });
    await page.reload();
    await page.waitForSelector('body.ready');
    const check = async (what) => {
      // (No screenshot here: a full-page one leaves a phone's viewport as wide as the page.)
      if (!(await noHorizontalScroll(page))) wide.push(`${what} ${lang}`);
    };
    for (const view of ['language', 'signup', 'ballot', 'stop']) {
      await page.locator('.site-nav').getByRole('link', { name: navName(lang, view), exact: true }).click();
      await page.locator(`#view-${view}`).waitFor({ state: 'visible' });
      await check(view);
    }
    await page.locator('#stop-scope-some').check();
    await page.locator('#stop-only').waitFor({ state: 'visible' });
    await check('stop-choices');
    await page.locator('#stop-form button[type="submit"]').click();
    await page.locator('#stop-summary').waitFor({ state: 'visible' });
    await check('stop-errors');
    await page.locator('.site-nav').getByRole('link', { name: s(lang, 'nav_signup'), exact: true }).click();
    await page.locator('#signup-form button[type="submit"]').click();
    await page.locator('#signup-summary').waitFor({ state: 'visible' });
    await check('signup-errors');
    await close(page);
  }
  assert.deepEqual(wide, []);
});

test('320 px wide: no view scrolls sideways, in any language', async () => {
  const wide = [];
  for (const lang of LANGS) {
    const page = await open(lang, { width: 320, height: 640 });
    for (const view of ['signup', 'ballot', 'stop', 'language']) {
      await page.locator('.site-nav').getByRole('link', { name: navName(lang, view), exact: true }).click();
      await page.locator(`#view-${view}`).waitFor({ state: 'visible' });
      if (!(await noHorizontalScroll(page))) wide.push(`${view} ${lang}`);
    }
    await page.locator('.site-nav').getByRole('link', { name: s(lang, 'nav_signup'), exact: true }).click();
    await page.locator('#signup-form button[type="submit"]').click();
    await page.locator('#signup-summary').waitFor({ state: 'visible' });
    if (!(await noHorizontalScroll(page))) wide.push(`error ${lang}`);
    await shot(page, `error-${lang}-320px`);
    await close(page);
  }
  assert.deepEqual(wide, []);
});
