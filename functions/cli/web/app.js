// Where's My Ballot: the voters' page. Plain JavaScript, no build step, no framework, no request
// to any other site. Every visible string comes from i18n/<language>.json. Personal data stays
// in this page's memory only: never in the URL, never in storage (only the chosen language is
// remembered).

const LANGS = ['en', 'es', 'zh', 'hi', 'ja', 'km', 'ko', 'tl', 'th', 'vi'];
// Each language's name in itself (an endonym: the same whatever the page's language).
const NATIVE = {
  en: 'English', es: 'Español', zh: '中文', hi: 'हिन्दी', ja: '日本語',
  km: 'ភាសាខ្មែរ', ko: '한국어', tl: 'Tagalog', th: 'ไทย', vi: 'Tiếng Việt',
};
const STORE_KEY = 'wmb-language';
const TZ = 'America/Los_Angeles';
const TOP_VIEWS = ['language', 'signup', 'ballot', 'stop'];
const CHANNELS = ['sms', 'email', 'voice'];
const MILESTONES = ['outbound', 'inbound', 'received', 'accepted', 'not_accepted', 'contact_county', 'undeliverable', 'reissued', 'in_person'];
// Refusals whose advice concerns one contact field, when the answer names it.
const CONTACT_REFUSALS = ['contact_in_use', 'contact_stopped', 'too_many_codes'];
const CODE_REFUSALS = ['wrong_code', 'expired', 'too_many_attempts'];
// The fields the server may name in an answer (`field`): anything else is not looked up.
const FIELDS = ['first_name', 'last_name', 'date_of_birth', 'zip', 'votecal_id', 'sms', 'email', 'voice', 'language', 'notify_from', 'notify_until', 'channels', 'code'];
// The views a code leads to: each is a step in the browser's history, shown again (Back,
// Forward) only while this page's memory still holds what it shows.
const STEP_VIEWS = ['code', 'done', 'journey', 'stopped'];

const state = {
  lang: 'en',
  dict: {},
  en: {},
  view: null,
  previous: null,
  busy: false,
  msgLangTouched: false,
  code: null, // { mode: 'signup' | 'ballot' | 'stop', changeId, accepted }
  signup: null, // what the last sign-up asked for (no personal data): { from, until, voiceOnly }
  done: null, // the same, once Finish was chosen (the final view)
  journey: null, // the /ballot/view answer, while it is shown
  journeyLang: null,
  stopped: null, // the channels stopped
  countyUrls: new Set(), // the county websites the server named (links allowed in advice)
  errors: {}, // per form: { summary: [{ key, args, raw }], fields: { field: key } }
};

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

// ---------------------------------------------------------------- strings

const dictionaries = new Map();

function loadDict(lang) {
  if (!dictionaries.has(lang)) {
    dictionaries.set(lang, fetch(`i18n/${lang}.json`, { headers: { Accept: 'application/json' } }).then((r) => {
      if (!r.ok) throw new Error(`i18n/${lang}.json: ${r.status}`);
      return r.json();
    }).catch((e) => {
      // Not kept: the next tap tries again (a weak signal comes and goes).
      dictionaries.delete(lang);
      throw e;
    }));
  }
  return dictionaries.get(lang);
}

function raw(key) {
  return state.dict[key] ?? state.en[key];
}

/** The string `key` in the page's language, with `{name}` placeholders filled. */
function t(key, args = {}) {
  const s = raw(key);
  if (typeof s !== 'string') return key;
  const all = { program: raw('program'), ...args };
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in all ? String(all[k]) : m));
}

// Web addresses, US phone numbers, and what must not break across lines: dates written
// 03-14-1985 and their pattern (MM-DD-YYYY, MM-DD-AAAA...).
const RICH_RE = /(https?:\/\/[\w\-.~:/?#@!$&'*+,;=%]*[\w\-~/#=])|(\(\d{3}\)\s?\d{3}-\d{4})|(\b\d{2}-\d{2}-\d{4}\b|\b[A-Z]{2}-[A-Z]{2}-[A-Z]{4}\b)/g;

/** The address `text` as a link target, if it may be one: https, on *.ca.gov or a county's site. */
function safeLink(text) {
  let u;
  try {
    u = new URL(text);
  } catch {
    return null;
  }
  if (u.protocol !== 'https:' || u.username || u.password || u.port) return null;
  const host = u.hostname.toLowerCase();
  if (host === 'ca.gov' || host.endsWith('.ca.gov') || state.countyUrls.has(u.href)) return text;
  return null;
}

function nowrap(text) {
  const span = document.createElement('span');
  span.className = 'nowrap';
  span.textContent = text;
  return span;
}

/**
 * Sets `text` into `el`. With `links`, allowed web addresses and US phone numbers become
 * links; dates and phone numbers never break across lines.
 */
function setRich(el, text, links = true) {
  el.textContent = '';
  let last = 0;
  for (const m of text.matchAll(RICH_RE)) {
    el.append(text.slice(last, m.index));
    if (m[1]) {
      const href = links ? safeLink(m[1]) : null;
      if (href) {
        const a = document.createElement('a');
        a.href = href;
        a.textContent = m[0];
        el.append(a);
      } else {
        el.append(m[0]);
      }
    } else if (m[2] && links) {
      const a = document.createElement('a');
      a.href = `tel:+1${m[2].replace(/\D/g, '')}`;
      a.className = 'nowrap';
      a.textContent = m[0];
      el.append(a);
    } else {
      el.append(nowrap(m[0]));
    }
    last = m.index + m[0].length;
  }
  el.append(text.slice(last));
}

/** Fills every element marked data-i18n (text) and data-i18n-attr ("attr=key;attr=key"). */
function applyTranslations(root = document) {
  for (const el of $$('[data-i18n]', root)) {
    const args = el.dataset.args ? JSON.parse(el.dataset.args) : {};
    const text = el.dataset.raw ?? t(el.dataset.i18n, args);
    setRich(el, text, 'rich' in el.dataset);
  }
  for (const el of $$('[data-i18n-attr]', root)) {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split('=');
      el.setAttribute(attr, t(key));
    }
  }
}

/** An element whose text is the string `key` (kept up to date when the language changes). */
function textEl(tag, key, args, { rich = false, className } = {}) {
  const el = document.createElement(tag);
  el.dataset.i18n = key;
  if (args && Object.keys(args).length) el.dataset.args = JSON.stringify(args);
  if (rich) el.dataset.rich = '';
  if (className) el.className = className;
  setRich(el, t(key, args), rich);
  return el;
}

function supported(locale) {
  try {
    return Intl.DateTimeFormat.supportedLocalesOf([locale]).length > 0;
  } catch {
    return false;
  }
}

/** A date in the page's language, as California sees it. */
function formatDate(date) {
  const locale = t('intl');
  if (supported(locale)) {
    return new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone: TZ }).format(date);
  }
  // This browser does not know the language's dates (Khmer, in some builds): the messages' own format.
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-US', { year: 'numeric', month: 'numeric', day: 'numeric', timeZone: TZ })
    .formatToParts(date).map((x) => [x.type, x.value]));
  const months = raw('months') || [];
  return t('date_pattern', { day: p.day, month: months[p.month - 1] ?? p.month, month_num: p.month, year: p.year });
}

/** "2026-11-03" (a day, not an instant) in the page's language. */
function formatDay(ymd) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymd || '');
  if (!m) return ymd || '';
  return formatDate(new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], 12)));
}

/** "20:30" in the page's language ("8:30 PM", "20:30", "오후 8:30"...). */
function formatTime(hhmm) {
  const [h, m] = hhmm.split(':').map(Number);
  const locale = t('intl');
  if (!supported(locale)) return hhmm;
  return new Intl.DateTimeFormat(locale, { hour: 'numeric', minute: '2-digit', timeZone: 'UTC' }).format(new Date(Date.UTC(2000, 0, 1, h, m)));
}

function formatList(items) {
  const locale = t('intl');
  if (Intl.ListFormat && supported(locale)) {
    try {
      return new Intl.ListFormat(locale, { style: 'long', type: 'conjunction' }).format(items);
    } catch { /* below */ }
  }
  if (items.length < 2) return items.join('');
  return items.slice(0, -1).join(t('list_separator')) + t('list_and') + items[items.length - 1];
}

// ---------------------------------------------------------------- language

function storedLanguage() {
  try {
    return localStorage.getItem(STORE_KEY);
  } catch {
    return null;
  }
}

function rememberLanguage(lang) {
  try {
    localStorage.setItem(STORE_KEY, lang);
  } catch { /* private mode: the page still works */ }
}

function browserLanguage() {
  for (const l of navigator.languages || [navigator.language || '']) {
    const base = String(l).toLowerCase().split('-')[0];
    if (base === 'fil') return 'tl';
    if (LANGS.includes(base)) return base;
  }
  return 'en';
}

async function setLanguage(lang) {
  if (!LANGS.includes(lang)) lang = 'en';
  const [dict, en] = await Promise.all([loadDict(lang), loadDict('en')]);
  state.lang = lang;
  state.dict = dict;
  state.en = en;
  document.documentElement.lang = lang;
  document.documentElement.dir = 'ltr';
  applyTranslations();
  renderLanguageLink();
  renderLanguageList();
  renderSelects();
  noteCodeVoice();
  for (const input of $$('input[name="date_of_birth"]')) echoBirthDate(input);
  renderCodeView();
  renderDone();
  renderStopped();
  renderJourney();
  updateTitle();
}

/**
 * The menu's Language link, recognisable whatever the page's language: a globe, "Language" in
 * English, and the word in the page's language ("Language / Idioma").
 */
function renderLanguageLink() {
  const el = $('#nav-language-text');
  el.textContent = '';
  const english = document.createElement('span');
  english.lang = 'en';
  english.textContent = state.en.nav_language;
  el.append(english);
  if (state.lang !== 'en') {
    const own = document.createElement('span');
    own.textContent = t('nav_language');
    el.append(' / ', own);
  }
}

function renderLanguageList() {
  const list = $('#language-list');
  if (!list.childElementCount) {
    for (const l of LANGS) {
      const li = document.createElement('li');
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'language-button';
      b.lang = l;
      b.dataset.lang = l;
      b.textContent = NATIVE[l];
      b.addEventListener('click', () => chooseLanguage(l));
      li.append(b);
      list.append(li);
    }
  }
  for (const b of $$('button', list)) {
    if (b.dataset.lang === state.lang) b.setAttribute('aria-current', 'true');
    else b.removeAttribute('aria-current');
  }
}

async function chooseLanguage(lang) {
  const failed = $('#language-failed');
  failed.hidden = true;
  try {
    await setLanguage(lang);
  } catch (e) {
    // Said in the page's language: tapping the language again tries again.
    console.warn(e);
    failed.textContent = t('err_network');
    failed.hidden = false;
    return;
  }
  rememberLanguage(lang);
  const back = state.previous && state.previous !== 'language' ? state.previous : 'signup';
  state.previous = null;
  // A ?lang= in the address would otherwise win over this choice at the next visit.
  const params = new URLSearchParams(location.search);
  if (params.has('lang')) params.set('lang', lang);
  const search = params.toString();
  const to = canShow(back) ? back : topOf(back);
  history.pushState({ view: to }, '', `${location.pathname}${search ? `?${search}` : ''}#${topOf(to)}`);
  show(to);
}

function renderSelects() {
  const langSelect = $('#signup-language');
  const chosen = state.msgLangTouched ? langSelect.value : state.lang;
  langSelect.textContent = '';
  for (const l of LANGS) {
    const o = document.createElement('option');
    o.value = l;
    o.lang = l;
    o.textContent = NATIVE[l];
    langSelect.append(o);
  }
  langSelect.value = chosen;

  for (const sel of [$('#signup-notify_from'), $('#signup-notify_until')]) {
    const value = sel.value || sel.dataset.default;
    sel.textContent = '';
    for (let i = 0; i < 48; i++) {
      const hhmm = `${String(Math.floor(i / 2)).padStart(2, '0')}:${i % 2 ? '30' : '00'}`;
      const o = document.createElement('option');
      o.value = hhmm;
      o.textContent = formatTime(hhmm);
      sel.append(o);
    }
    sel.value = value;
  }
}

// ---------------------------------------------------------------- views

function topOf(view) {
  switch (view) {
    case 'done': return 'signup';
    case 'journey': return 'ballot';
    case 'stopped': return 'stop';
    case 'code': return state.code ? state.code.mode : 'signup';
    default: return view;
  }
}

function updateTitle() {
  const heading = state.view ? $(`#${state.view}-heading`) : null;
  const view = heading ? heading.textContent : '';
  document.title = view && view !== t('program') ? t('doc_title', { view }) : t('program');
}

/** Whether this page's memory still holds what `view` shows. */
function canShow(view) {
  switch (view) {
    case 'code': return Boolean(state.code);
    case 'done': return Boolean(state.done);
    case 'journey': return Boolean(state.journey);
    case 'stopped': return Boolean(state.stopped);
    default: return view === 'language' || TOP_VIEWS.includes(view);
  }
}

function show(view, { focus = true } = {}) {
  if (state.journey && view !== 'journey' && view !== 'language') {
    // What the code unlocked is shown once, then forgotten (a change of language keeps it).
    state.journey = null;
    renderJourney();
  }
  for (const s of $$('.view')) s.hidden = s.id !== `view-${view}`;
  if (view !== 'language') state.previous = null;
  state.view = view;
  const top = topOf(view);
  for (const a of $$('.site-nav a')) {
    if (a.dataset.viewLink === top) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  renderPending();
  updateTitle();
  if (focus) {
    const h = $(`#${view}-heading`);
    h.focus();
    h.scrollIntoView({ block: 'start' });
  }
}

/**
 * Shows `view` as a step in the browser's history, so that the phone's Back button returns to
 * the view before. The history holds the view's name only (the address: its menu entry).
 */
function visit(view, { replace = false } = {}) {
  const entry = { view };
  const url = `#${topOf(view)}`;
  if (replace) history.replaceState(entry, '', url);
  else history.pushState(entry, '', url);
  show(view);
}

/** A form whose code was sent and not yet used offers the way back to it. */
function renderPending() {
  for (const mode of TOP_VIEWS) {
    const box = $(`#${mode}-pending`);
    if (box) box.hidden = !(state.code && state.code.mode === mode && state.view === mode);
  }
}

/** Opens one of the top views (a link in the menu, the address's #view, back and forward). */
function goTo(view, { focus = true } = {}) {
  if (view === 'language' && state.view && state.view !== 'language') state.previous = state.view;
  show(view, { focus });
}

function route({ focus = true } = {}) {
  const h = location.hash.slice(1);
  goTo(TOP_VIEWS.includes(h) ? h : 'signup', { focus });
}

/** Back and Forward: the step the entry names, while it can still be shown; else its menu entry. */
function onPopState(e) {
  const view = e.state && e.state.view;
  if (STEP_VIEWS.includes(view) && canShow(view) && `#${topOf(view)}` === location.hash) {
    if (view === 'code') renderCodeView();
    show(view);
    return;
  }
  route();
}

function onViewLink(e) {
  const a = e.target.closest('[data-view-link]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  const view = a.dataset.viewLink;
  if (state.view !== view || location.hash !== `#${view}`) history.pushState({ view }, '', `#${view}`);
  goTo(view);
}

// ---------------------------------------------------------------- errors

function formName(form) {
  return form.id.replace(/-form$/, '');
}

function clearErrors(form) {
  const name = formName(form);
  state.errors[name] = null;
  for (const err of $$('.error-message', form)) {
    const id = err.id;
    for (const el of $$(`[aria-describedby~="${id}"]`, form)) {
      const rest = el.getAttribute('aria-describedby').split(/\s+/).filter((x) => x && x !== id);
      if (rest.length) el.setAttribute('aria-describedby', rest.join(' '));
      else el.removeAttribute('aria-describedby');
    }
    err.remove();
  }
  for (const el of $$('[aria-invalid]', form)) el.removeAttribute('aria-invalid');
  for (const el of $$('.has-error', form)) el.classList.remove('has-error');
  const summary = $(`#${name}-summary`);
  summary.hidden = true;
  summary.textContent = '';
}

/** Empties a form once its work is done (a shared computer keeps nothing of the voter's). */
function resetForm(form) {
  form.reset();
  clearErrors(form);
  for (const w of $$('[data-field="votecal_id"]', form)) w.hidden = true;
  for (const sel of $$('select[data-default]', form)) sel.value = sel.dataset.default;
  const lang = $('select[name="language"]', form);
  if (lang) {
    state.msgLangTouched = false;
    lang.value = state.lang;
  }
  if (form.id === 'stop-form') updateStopScope();
}

function controlsOf(wrap) {
  return wrap.tagName === 'FIELDSET' ? $$('input', wrap) : [$('input, select', wrap)];
}

function setFieldError(form, field, key) {
  const wrap = $(`[data-field="${field}"]`, form);
  if (!wrap) return null;
  wrap.hidden = false;
  const id = `${formName(form)}-${field}-error`;
  const err = document.createElement('p');
  err.className = 'error-message';
  err.id = id;
  err.append(textEl('span', 'error_prefix', null, { className: 'visually-hidden' }), ' ', textEl('span', key));
  // Before the control, or inside a fieldset before its choices or its fields.
  const before = $(':scope > .field, :scope > .checks, input, select', wrap);
  before.parentNode.insertBefore(err, before);
  wrap.classList.add('has-error');
  const describe = (el) => {
    const ids = (el.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
    if (!ids.includes(id)) ids.push(id);
    el.setAttribute('aria-describedby', ids.join(' '));
  };
  if (wrap.tagName === 'FIELDSET') describe(wrap);
  const controls = controlsOf(wrap);
  for (const c of controls) {
    c.setAttribute('aria-invalid', 'true');
    describe(c);
  }
  // The control to fix: the first one shown, past a choice already made ("Only these:" chosen,
  // no kind ticked: the first kind).
  const chosen = (c) => c.type === 'radio' && controls.some((o) => o.name === c.name && o.checked);
  return controls.find((c) => c.getClientRects().length && !chosen(c)) || controls[0];
}

/**
 * Shows what went wrong on a form: `advice` paragraphs (keys, or raw text from the server) in
 * the summary, and an error tied to each field of `fields` ({ field: key }). Focus goes to the
 * first field at fault, or to the summary.
 */
function showErrors(form, { advice = [], fields = {} } = {}) {
  clearErrors(form);
  const name = formName(form);
  state.errors[name] = { advice, fields };
  const summary = $(`#${name}-summary`);
  const title = textEl('h2', 'errors_title');
  title.id = `${name}-summary-title`;
  summary.append(title);
  for (const a of advice) {
    const p = a.raw !== undefined ? document.createElement('p') : textEl('p', a.key, a.args, { rich: true });
    if (a.raw !== undefined) {
      p.dataset.raw = a.raw;
      p.dataset.rich = '';
      p.dataset.i18n = 'errors_title';
      setRich(p, a.raw);
    }
    summary.append(p);
  }
  let first = null;
  const entries = Object.entries(fields);
  if (entries.length) {
    const ul = document.createElement('ul');
    for (const [field, key] of entries) {
      const control = setFieldError(form, field, key);
      if (!control) continue;
      first ??= control;
      const li = document.createElement('li');
      const a = textEl('a', key);
      a.href = `#${control.id}`;
      a.addEventListener('click', (e) => {
        e.preventDefault();
        control.focus();
      });
      li.append(a);
      ul.append(li);
    }
    if (ul.childElementCount) summary.append(ul);
  }
  summary.hidden = false;
  if (first) first.focus();
  else summary.focus();
}

/** What the API answered, turned into what the voter reads next to the form. */
function showAnswerError(form, res) {
  const body = res.body || {};
  // Only a field this page knows is looked up (a bad name cannot break the selector).
  const fieldsInForm = (f) => FIELDS.includes(f) && Boolean($(`[data-field="${f}"]`, form));
  if (res.status === 0) return showErrors(form, { advice: [{ key: 'err_network' }] });
  if (res.status === 503 || (res.status === 429 && !body.status)) return showErrors(form, { advice: [{ key: 'err_busy' }] });
  if (body.status === 'invalid') {
    if (body.field === 'change_id') return showErrors(form, { advice: [{ key: 'err_start_again' }] });
    if (fieldsInForm(body.field)) return showErrors(form, { fields: { [body.field]: `err_${body.field}` } });
    return showErrors(form, { advice: [{ key: 'err_unknown' }] });
  }
  if (body.status === 'refused') {
    const reason = body.reason;
    if (reason === 'needs_votecal_id') {
      for (const w of $$('[data-field="votecal_id"]', form)) w.hidden = false;
      return showErrors(form, { advice: [{ key: 'r_needs_votecal_id' }], fields: { votecal_id: 'err_votecal_needed' } });
    }
    if (reason === 'no_match') return showErrors(form, { advice: [{ key: 'r_no_match' }, { key: 'r_no_match_check' }] });
    if (CODE_REFUSALS.includes(reason) && fieldsInForm('code')) return showErrors(form, { fields: { code: `r_${reason}` } });
    if (CONTACT_REFUSALS.includes(reason) && fieldsInForm(body.field)) return showErrors(form, { fields: { [body.field]: `r_${reason}` } });
    if (raw(`r_${reason}`)) return showErrors(form, { advice: [{ key: `r_${reason}` }] });
    if (body.advice) return showErrors(form, { advice: [{ raw: body.advice }] });
  }
  return showErrors(form, { advice: [{ key: 'err_unknown' }] });
}

// ---------------------------------------------------------------- the API

/** POSTs `body` as JSON to a relative URL; { status, body } (status 0: no answer at all). */
async function post(path, body) {
  try {
    const r = await fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      // A dead connection is not left "Sending…" for minutes: after 30 s it is no answer.
      signal: AbortSignal.timeout(30000),
    });
    let json = null;
    try {
      json = await r.json();
    } catch { /* not JSON: judged by the status */ }
    return { status: r.status, body: json };
  } catch {
    return { status: 0, body: null };
  }
}

async function send(form, path, body, ok) {
  if (state.busy) return null;
  state.busy = true;
  // "Sending…" is said by its status region (the form is not marked busy: a screen reader holds
  // back what a busy region says, and the answer takes at least a second).
  const sending = $('.sending', form);
  if (sending) sending.textContent = t('sending');
  let res;
  try {
    res = await post(path, body);
  } finally {
    state.busy = false;
    if (sending) sending.textContent = '';
  }
  if (res.status === ok.status && res.body && res.body.status === ok.answer) return res.body;
  showAnswerError(form, res);
  return null;
}

// ---------------------------------------------------------------- reading the forms

/** The zero of each script's digits a voter's keyboard may type (full-width, Devanagari, Thai,
 * Khmer, Arabic-Indic and others): a date, ZIP, phone number or code typed in them is read as
 * ASCII digits. */
const DIGIT_ZEROS = [0xff10, 0x0966, 0x0e50, 0x17e0, 0x0660, 0x06f0, 0x09e6, 0x0ed0, 0x1040];

function asciiDigits(text) {
  return text.replace(/\p{Nd}/gu, (c) => {
    const cp = c.codePointAt(0);
    const zero = DIGIT_ZEROS.find((z) => cp >= z && cp <= z + 9);
    return zero === undefined ? c : String(cp - zero);
  });
}

function value(form, name) {
  const el = form.elements.namedItem(name);
  return el ? asciiDigits(el.value.trim()) : '';
}

/** A US phone number as typed ("(510) 555-0101", "510.555.0101", "+1 510 555 0101") in E.164. */
function toE164(text) {
  const t0 = text.trim();
  if (!t0) return '';
  const digits = t0.replace(/\D/g, '');
  if (t0.startsWith('+')) return digits.length >= 8 && digits.length <= 15 ? `+${digits}` : null;
  if (/[^\d\s().\-+]/.test(t0)) return null;
  if (digits.length === 10) return `+1${digits}`;
  if (digits.length === 11 && digits.startsWith('1')) return `+${digits}`;
  return null;
}

/** A date typed MM-DD-YYYY (or with / . or spaces between, or as eight digits) or YYYY-MM-DD,
 * as YYYY-MM-DD; null when it is none. */
function isoDate(text) {
  let m = /^(\d{1,2})[-/. ](\d{1,2})[-/. ](\d{4})$/.exec(text) || /^(\d{2})(\d{2})(\d{4})$/.exec(text);
  let y, mo, d;
  if (m) [, mo, d, y] = m.map(Number);
  else if ((m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text))) [, y, mo, d] = m.map(Number);
  else return null;
  const date = new Date(Date.UTC(y, mo - 1, d));
  const real = date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d && y >= 1900;
  return real ? `${y}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}` : null;
}

/** Under a date of birth, the date as the page reads it ("We read this as May 3, 1950"), so that
 * a date typed day first (05-03-1950 for 5 March) shows as another day before it is sent. */
function echoBirthDate(input) {
  const out = document.getElementById(`${input.id}-read`);
  if (!out) return;
  const iso = isoDate(asciiDigits(input.value.trim()));
  // (Always in the page, empty when there is nothing to say: a live region that appears with its
  // text is often not read out.)
  out.textContent = iso ? t('dob_read_as', { date: formatDay(iso) }) : '';
}

/** Adds or removes one id in an element's aria-describedby, keeping the others. */
function describedBy(el, id, on) {
  const ids = (el.getAttribute('aria-describedby') || '').split(/\s+/).filter((x) => x && x !== id);
  if (on) ids.push(id);
  el.setAttribute('aria-describedby', ids.join(' '));
}

/** Messages' languages a call that reads a code does not speak (no Polly voice; Chinese calls
 * play recordings only, see functions/core/src/voice.rs): such a call is in English. */
const NO_CODE_VOICE = ['zh', 'km', 'tl', 'th', 'vi'];

/** Under the phone-call field, when the messages' language is one of NO_CODE_VOICE, says so. */
function noteCodeVoice() {
  const lang = $('#signup-language').value;
  const note = $('#signup-voice-code');
  const shown = NO_CODE_VOICE.includes(lang);
  note.textContent = shown ? t('voice_code_english') : '';
  note.hidden = !shown;
  describedBy($('#signup-voice'), 'signup-voice-code', shown);
}

/** Reads who the voter says they are; checks what can be checked here. */
function readIdentity(form, errors) {
  const who = {
    first_name: value(form, 'first_name'),
    last_name: value(form, 'last_name'),
    date_of_birth: value(form, 'date_of_birth'),
    zip: value(form, 'zip'),
  };
  if (!who.first_name) errors.first_name = 'err_first_name';
  if (!who.last_name) errors.last_name = 'err_last_name';
  const dob = isoDate(who.date_of_birth);
  if (dob) who.date_of_birth = dob;
  else errors.date_of_birth = 'err_date_of_birth';
  if (!/^\d{5}(-\d{4})?$/.test(who.zip)) errors.zip = 'err_zip';
  const votecal = $('[data-field="votecal_id"]', form);
  if (votecal && !votecal.hidden) {
    const id = value(form, 'votecal_id');
    if (!/^[A-Za-z0-9]{1,24}$/.test(id)) errors.votecal_id = id ? 'err_votecal_id' : 'err_votecal_needed';
    else who.votecal_id = id;
  }
  return who;
}

// ---------------------------------------------------------------- sign up

async function onSignup(e) {
  e.preventDefault();
  const form = e.currentTarget;
  const errors = {};
  const body = readIdentity(form, errors);
  body.language = value(form, 'language') || state.lang;
  let contacts = 0;
  for (const ch of CHANNELS) {
    const typed = value(form, ch);
    if (!typed) continue;
    contacts++;
    if (ch === 'email') {
      if (/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(typed)) body.email = typed;
      else errors.email = 'err_email';
    } else {
      const phone = toE164(typed);
      if (phone) body[ch] = phone;
      else errors[ch] = `err_${ch}`;
    }
  }
  // "At least one" concerns the three contacts: the error is tied to their fieldset.
  if (!contacts) errors.contacts = 'err_contacts';
  body.notify_from = value(form, 'notify_from') || '08:00';
  body.notify_until = value(form, 'notify_until') || '20:00';
  if (body.notify_from === body.notify_until) errors.notify_until = 'err_notify_until';
  if (Object.keys(errors).length) return showErrors(form, { fields: errors });
  clearErrors(form);
  const answer = await send(form, '/signup', body, { status: 202, answer: 'codes_sent' });
  if (!answer) return;
  state.signup = { from: body.notify_from, until: body.notify_until, voiceOnly: Boolean(body.voice && !body.sms && !body.email) };
  startCode('signup', answer.change_id);
}

// ---------------------------------------------------------------- my ballot

async function onBallot(e) {
  e.preventDefault();
  const form = e.currentTarget;
  const errors = {};
  const body = readIdentity(form, errors);
  if (Object.keys(errors).length) return showErrors(form, { fields: errors });
  body.language = state.lang;
  clearErrors(form);
  const answer = await send(form, '/ballot', body, { status: 202, answer: 'codes_sent' });
  if (!answer) return;
  startCode('ballot', answer.change_id);
}

function renderJourney() {
  const root = $('#journey');
  root.textContent = '';
  const j = state.journey;
  if (!j) return;
  const jl = state.journeyLang;
  const elections = Array.isArray(j.elections) ? j.elections : [];
  if (!elections.length) {
    root.append(textEl('p', 'journey_none', null, { className: 'lead' }));
    return;
  }
  for (const el of elections) {
    const article = document.createElement('article');
    article.className = 'election';
    const h2 = document.createElement('h2');
    h2.textContent = el.election_name || el.election_id || '';
    if (jl !== state.lang) h2.lang = jl;
    article.append(h2);

    const facts = document.createElement('dl');
    facts.className = 'facts';
    const fact = (key, text) => {
      const dt = textEl('dt', key);
      const dd = document.createElement('dd');
      dd.textContent = text;
      facts.append(dt, dd);
    };
    if (el.election_date) fact('election_day', formatDay(el.election_date));
    if (el.county_name) fact('county', t('county_name', { county: el.county_name }));
    article.append(facts);

    const current = MILESTONES.includes(el.current) ? el.current : null;
    const unknown = Boolean(el.current) && !current;
    const events = (Array.isArray(el.events) ? el.events.slice() : []).sort((a, b) => String(a.at).localeCompare(String(b.at)));
    const status = document.createElement('div');
    status.className = `status-box${el.needs_action ? ' needs-action' : ''}${current ? ` status-${current}` : ''}`;
    status.append(textEl('h3', 'current_status'));
    status.append(textEl('p', current ? `m_${current}` : (unknown ? 'status_unknown' : 'status_none'), null, { className: 'status-name' }));
    if (el.needs_action) {
      // Why, next to the status (the latest reason given for it; else the latest reason).
      const withReason = events.filter((ev) => ev.type !== 'scan' && ev.reason);
      const ev = withReason.filter((x) => x.milestone === el.current).pop() || withReason.pop();
      if (ev) {
        const why = reasonEl(ev.reason, jl);
        why.classList.add('status-reason');
        status.append(why);
      }
    }
    status.append(textEl('p', current ? `n_${current}` : (unknown ? 'status_unknown_next' : 'status_none_next')));
    article.append(status);

    const contact = el.county_contact || {};
    const phone = contact.phone && /^\+?[\d\s().-]{10,20}$/.test(contact.phone) && /^1?\d{10}$/.test(String(contact.phone).replace(/\D/g, '')) ? contact.phone : null;
    const email = mailOf(contact.email);
    const site = contact.url ? safeSite(contact.url) : null;
    const showContact = el.needs_action || current === 'not_accepted' || current === 'undeliverable' || unknown;
    if (showContact && (phone || email || site)) {
      const box = document.createElement('div');
      box.className = el.needs_action ? 'action-box' : 'contact-box';
      box.append(textEl('h3', el.needs_action ? 'action_heading' : 'contact_heading'));
      box.append(textEl('p', 'action_contact', { county: t('county_name', { county: el.county_name || '' }) }));
      const ul = document.createElement('ul');
      ul.className = 'contact-list';
      const item = (key, href, text, elsewhere = false) => {
        const li = document.createElement('li');
        const a = document.createElement('a');
        a.href = href;
        a.textContent = text;
        if (elsewhere) {
          // The county's site opens beside this page: going back would need a new code.
          a.target = '_blank';
          a.rel = 'noopener';
        }
        li.append(textEl('span', key), ' ', a);
        ul.append(li);
      };
      if (phone) item('phone_label', `tel:${telOf(phone)}`, phone);
      if (email) item('email_label', `mailto:${email}`, email);
      if (site) item('website_label', site, site, true);
      box.append(ul);
      article.append(box);
    }

    if (events.length) {
      article.append(textEl('h3', 'history'));
      const ol = document.createElement('ol');
      ol.className = 'events';
      for (const ev of events) {
        const li = document.createElement('li');
        const time = document.createElement('time');
        time.dateTime = ev.at;
        const when = new Date(ev.at);
        time.textContent = Number.isNaN(when.getTime()) ? ev.at : formatDate(when);
        const what = document.createElement('span');
        what.className = 'event-what';
        if (ev.type === 'scan') {
          what.textContent = t(ev.direction === 'inbound' ? 'scan_inbound' : 'scan_outbound', { zip: ev.facility_zip || '' });
        } else {
          what.textContent = MILESTONES.includes(ev.milestone) ? t(`m_${ev.milestone}`) : String(ev.milestone || '');
          if (ev.reason) what.append(' ', reasonEl(ev.reason, jl, 'span', 'event-reason'));
        }
        li.append(time, ' ', what);
        ol.append(li);
      }
      article.append(ol);
    }
    root.append(article);
  }
}

/** "Because {reason}.", the reason in the language it came in. */
function reasonEl(text, lang, tag = 'p', className = '') {
  const why = document.createElement(tag);
  if (className) why.className = className;
  const [before, after = ''] = t('because', { reason: '\u0000' }).split('\u0000');
  const reason = document.createElement('span');
  reason.textContent = text;
  if (lang !== state.lang) reason.lang = lang;
  why.append(before, reason, after);
  return why;
}

/** The county's email address, if it is one (one @, nothing that would add to a mailto: link). */
function mailOf(text) {
  const s0 = String(text || '').trim();
  return /^[A-Za-z0-9._+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/.test(s0) ? s0 : null;
}

/** The county's website as a link target: https only, no user name or password in it. */
function safeSite(text) {
  let u;
  try {
    u = new URL(String(text));
  } catch {
    return null;
  }
  return u.protocol === 'https:' && !u.username && !u.password ? String(text).trim() : null;
}

function telOf(phone) {
  const digits = String(phone).replace(/\D/g, '');
  return digits.length === 10 ? `+1${digits}` : `+${digits}`;
}

// ---------------------------------------------------------------- stop messages

async function onStop(e) {
  e.preventDefault();
  const form = e.currentTarget;
  const errors = {};
  const body = readIdentity(form, errors);
  // "All messages", or "Only these:" and the kinds ticked.
  const scope = $('input[name="scope"]:checked', form);
  let channels = [];
  if (!scope) {
    errors.channels = 'err_channels';
  } else if (scope.value === 'all') {
    channels = ['all'];
  } else {
    channels = $$('input[name="channels"]:checked', form).map((c) => c.value);
    if (!channels.length) errors.channels = 'err_channels_some';
  }
  if (Object.keys(errors).length) return showErrors(form, { fields: errors });
  body.language = state.lang;
  body.channels = channels;
  clearErrors(form);
  const answer = await send(form, '/optout', body, { status: 202, answer: 'codes_sent' });
  if (!answer) return;
  state.stopped = channels;
  startCode('stop', answer.change_id);
}

/** The kinds of messages are offered once "Only these:" is chosen. */
function updateStopScope() {
  $('#stop-only').hidden = !$('#stop-scope-some').checked;
}

function renderStopped() {
  const p = $('#stopped-text');
  const ch = state.stopped || [];
  if (!ch.length || ch.includes('all') || CHANNELS.every((c) => ch.includes(c))) {
    p.textContent = t('stopped_all');
  } else {
    p.textContent = t('stopped_some', { channels: formatList(CHANNELS.filter((c) => ch.includes(c)).map((c) => t(`ch_${c}`))) });
  }
}

// ---------------------------------------------------------------- codes

function startCode(mode, changeId) {
  state.code = { mode, changeId, accepted: 0 };
  const form = $('#code-form');
  form.reset();
  clearErrors(form);
  $('#code-accepted').textContent = '';
  renderCodeView();
  visit('code');
}

/** Back to the code already sent (from its form, after Back or the menu). */
function onResume() {
  if (!state.code) return;
  renderCodeView();
  visit('code');
}

/** What the voter will get once their choices are live (nothing, when only calls were chosen). */
function confirmationText(choice) {
  const h = choice || { from: '08:00', until: '20:00' };
  return t(h.voiceOnly ? 'done_text_voice' : 'done_text', { from: formatTime(h.from), until: formatTime(h.until) });
}

function renderCodeView() {
  const c = state.code;
  const intro = $('#code-intro');
  intro.textContent = c ? t(`code_intro_${c.mode}`) : '';
  $('#code-finish').hidden = !(c && c.mode === 'signup' && c.accepted > 0);
  const box = $('#code-accepted');
  box.textContent = '';
  if (c && c.accepted > 0) {
    // A code accepted is not the change done: a voter who had signed up before must also
    // enter the code sent to their earlier contacts (the server does not say which case this is).
    const confirm = document.createElement('p');
    confirm.id = 'code-confirmation';
    confirm.textContent = confirmationText(state.signup);
    box.append(textEl('p', 'code_accepted', null, { className: 'strong' }), textEl('p', 'code_accepted_before'), textEl('p', 'code_accepted_more'), confirm);
  }
}

async function onCode(e) {
  e.preventDefault();
  const form = e.currentTarget;
  const c = state.code;
  if (!c) return;
  const code = value(form, 'code').replace(/[\s-]/g, '');
  if (!/^\d{6}$/.test(code)) return showErrors(form, { fields: { code: 'err_code' } });
  clearErrors(form);
  if (c.mode === 'ballot') {
    const lang = state.lang;
    const answer = await send(form, '/ballot/view', { change_id: c.changeId, code, language: lang }, { status: 200, answer: 'verified' });
    if (!answer) return;
    state.code = null;
    state.journey = answer;
    state.journeyLang = lang;
    for (const el of Array.isArray(answer.elections) ? answer.elections : []) {
      const site = el && el.county_contact ? safeSite(el.county_contact.url) : null;
      if (site) state.countyUrls.add(new URL(site).href);
    }
    form.reset();
    resetForm($('#ballot-form'));
    renderJourney();
    visit('journey', { replace: true });
    return;
  }
  const answer = await send(form, '/verify', { change_id: c.changeId, code }, { status: 200, answer: 'verified' });
  if (!answer) return;
  form.reset();
  if (c.mode === 'stop') {
    state.code = null;
    resetForm($('#stop-form'));
    renderStopped();
    visit('stopped', { replace: true });
    return;
  }
  c.accepted++;
  renderCodeView();
  $('#code-code').focus();
}

function onFinish() {
  state.code = null;
  state.done = state.signup || { from: '08:00', until: '20:00', voiceOnly: false };
  resetForm($('#signup-form'));
  renderDone();
  visit('done', { replace: true });
}

/** "Start again": the code is dropped, and its form takes the code's place in the history. */
function onRestart() {
  const mode = state.code ? state.code.mode : 'signup';
  state.code = null;
  history.replaceState({ view: mode }, '', `#${mode}`);
  show(mode);
}

function renderDone() {
  $('#done-text').textContent = confirmationText(state.done);
}

// ---------------------------------------------------------------- leaving the page

/**
 * Leaving the page (another site, reload, closing): what the code unlocked and whatever the
 * forms hold is forgotten, so that the browser's back-forward cache cannot show it again.
 */
function onPageHide() {
  state.journey = null;
  renderJourney();
  for (const id of ['signup-form', 'ballot-form', 'stop-form', 'code-form']) resetForm($(`#${id}`));
}

/** Back from another site to this page as it was left: a view that was forgotten gives way. */
function onPageShow(e) {
  if (!e.persisted || !state.view) return;
  if (!canShow(state.view)) route({ focus: false });
  else renderPending();
}

// ---------------------------------------------------------------- start

async function start() {
  const params = new URLSearchParams(location.search);
  const asked = params.get('lang');
  const stored = storedLanguage();
  let lang;
  if (asked && LANGS.includes(asked)) {
    lang = asked;
    rememberLanguage(asked);
  } else if (stored && LANGS.includes(stored)) {
    lang = stored;
  } else {
    lang = browserLanguage();
  }
  await setLanguage(lang);

  document.addEventListener('click', onViewLink);
  $('.skip-link').addEventListener('click', (e) => {
    e.preventDefault();
    $('#main').focus();
  });
  window.addEventListener('popstate', onPopState);
  window.addEventListener('pagehide', onPageHide);
  window.addEventListener('pageshow', onPageShow);
  for (const b of $$('[data-resume]')) b.addEventListener('click', onResume);
  $('#signup-form').addEventListener('submit', onSignup);
  $('#ballot-form').addEventListener('submit', onBallot);
  $('#stop-form').addEventListener('submit', onStop);
  $('#code-form').addEventListener('submit', onCode);
  $('#code-finish').addEventListener('click', onFinish);
  $('#code-restart').addEventListener('click', onRestart);
  $('#signup-language').addEventListener('change', () => { state.msgLangTouched = true; noteCodeVoice(); });
  for (const input of $$('input[name="date_of_birth"]')) {
    input.addEventListener('input', () => echoBirthDate(input));
    // (A form's reset event comes before its fields are reset.)
    input.form.addEventListener('reset', () => setTimeout(() => echoBirthDate(input)));
  }
  $('#signup-form').addEventListener('reset', () => setTimeout(noteCodeVoice));
  $('#stop-form').addEventListener('change', (e) => {
    if (e.target.name === 'scope') updateStopScope();
  });
  updateStopScope();

  const first = !asked && !stored && !location.hash;
  if (first) show('language', { focus: false });
  else route({ focus: false });
  history.replaceState({ view: state.view }, '');
  document.body.classList.add('ready');
}

start().catch((e) => {
  console.error(e);
  const main = $('#main');
  const p = document.createElement('p');
  p.className = 'summary';
  p.textContent = 'This page could not be loaded. Please try again later, or call (800) 345-8683.';
  main.prepend(p);
});
