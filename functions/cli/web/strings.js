// The voters' page: its strings in the page's language, dates and times, and choosing the
// language (see page.js).

import { $, $$, LANGS, NATIVE, state, STORE_KEY, TZ } from './page.js';
import { echoBirthDate, noteCodeVoice, value } from './forms.js';
import { renderJourney } from './ballot.js';
import { canShow, renderCodeView, renderDone, renderStopped, show, topOf, updateTitle } from './app.js';

// ---------------------------------------------------------------- strings

export const dictionaries = new Map();

export function loadDict(lang) {
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

export function raw(key) {
  return state.dict[key] ?? state.en[key];
}

/** The string `key` in the page's language, with `{name}` placeholders filled. */
export function t(key, args = {}) {
  const s = raw(key);
  if (typeof s !== 'string') return key;
  const all = { program: raw('program'), ...args };
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in all ? String(all[k]) : m));
}

// Web addresses, US phone numbers, and what must not break across lines: dates written
// 03-14-1985 and their pattern (MM-DD-YYYY, MM-DD-AAAA...).
export const RICH_RE = /(https?:\/\/[\w\-.~:/?#@!$&'*+,;=%]*[\w\-~/#=])|(\(\d{3}\)\s?\d{3}-\d{4})|(\b\d{2}-\d{2}-\d{4}\b|\b[A-Z]{2}-[A-Z]{2}-[A-Z]{4}\b)/g;

/** The address `text` as a link target, if it may be one: https, on *.ca.gov or a county's site. */
export function safeLink(text) {
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

export function nowrap(text) {
  const span = document.createElement('span');
  span.className = 'nowrap';
  span.textContent = text;
  return span;
}

/**
 * Sets `text` into `el`. With `links`, allowed web addresses and US phone numbers become
 * links; dates and phone numbers never break across lines.
 */
export function setRich(el, text, links = true) {
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
export function applyTranslations(root = document) {
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
export function textEl(tag, key, args, { rich = false, className } = {}) {
  const el = document.createElement(tag);
  el.dataset.i18n = key;
  if (args && Object.keys(args).length) el.dataset.args = JSON.stringify(args);
  if (rich) el.dataset.rich = '';
  if (className) el.className = className;
  setRich(el, t(key, args), rich);
  return el;
}

export function supported(locale) {
  try {
    return Intl.DateTimeFormat.supportedLocalesOf([locale]).length > 0;
  } catch {
    return false;
  }
}

/** A date in the page's language, as California sees it. */
export function formatDate(date) {
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
export function formatDay(ymd) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymd || '');
  if (!m) return ymd || '';
  return formatDate(new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], 12)));
}

/** The clock time of an instant as California sees it, with its zone, in the page's language
 * ("5:00 PM PST", "17:00 GMT-8"): a voter abroad reads it right. */
export function formatClock(date) {
  const locale = t('intl');
  const opts = { hour: 'numeric', minute: '2-digit', timeZone: TZ, timeZoneName: 'short' };
  return new Intl.DateTimeFormat(supported(locale) ? locale : 'en-US', supported(locale) ? opts : { ...opts, hourCycle: 'h23' }).format(date);
}

/** "20:30" in the page's language ("8:30 PM", "20:30", "오후 8:30"...). */
export function formatTime(hhmm) {
  const [h, m] = hhmm.split(':').map(Number);
  const locale = t('intl');
  if (!supported(locale)) return hhmm;
  return new Intl.DateTimeFormat(locale, { hour: 'numeric', minute: '2-digit', timeZone: 'UTC' }).format(new Date(Date.UTC(2000, 0, 1, h, m)));
}

export function formatList(items) {
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

export function storedLanguage() {
  try {
    return localStorage.getItem(STORE_KEY);
  } catch {
    return null;
  }
}

export function rememberLanguage(lang) {
  try {
    localStorage.setItem(STORE_KEY, lang);
  } catch { /* private mode: the page still works */ }
}

export function browserLanguage() {
  for (const l of navigator.languages || [navigator.language || '']) {
    const base = String(l).toLowerCase().split('-')[0];
    if (base === 'fil') return 'tl';
    if (LANGS.includes(base)) return base;
  }
  return 'en';
}

export async function setLanguage(lang) {
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
export function renderLanguageLink() {
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

export function renderLanguageList() {
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

export async function chooseLanguage(lang) {
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

export function renderSelects() {
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
