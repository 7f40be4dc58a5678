// The voters' page: its views, sign-up, stop, codes, and the start (see page.js, which says
// what each module holds).

import { $, $$, CHANNELS, LANGS, state, STEP_VIEWS, TOP_VIEWS } from './page.js';
import { browserLanguage, formatList, formatTime, rememberLanguage, setLanguage, storedLanguage, t, textEl } from './strings.js';
import { clearErrors, echoBirthDate, noteCodeVoice, readIdentity, resetForm, send, showErrors, toE164, value } from './forms.js';
import { onBallot, renderJourney, safeSite } from './ballot.js';

// ---------------------------------------------------------------- views

export function topOf(view) {
  switch (view) {
    case 'done': return 'signup';
    case 'journey': return 'ballot';
    case 'stopped': return 'stop';
    case 'code': return state.code ? state.code.mode : 'signup';
    default: return view;
  }
}

export function updateTitle() {
  const heading = state.view ? $(`#${state.view}-heading`) : null;
  const view = heading ? heading.textContent : '';
  document.title = view && view !== t('program') ? t('doc_title', { view }) : t('program');
}

/** Whether this page's memory still holds what `view` shows. */
export function canShow(view) {
  switch (view) {
    case 'code': return Boolean(state.code);
    case 'done': return Boolean(state.done);
    case 'journey': return Boolean(state.journey);
    case 'stopped': return Boolean(state.stopped);
    default: return view === 'language' || TOP_VIEWS.includes(view);
  }
}

export function show(view, { focus = true } = {}) {
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
export function visit(view, { replace = false } = {}) {
  const entry = { view };
  const url = `#${topOf(view)}`;
  if (replace) history.replaceState(entry, '', url);
  else history.pushState(entry, '', url);
  show(view);
}

/** A form whose code was sent and not yet used offers the way back to it. */
export function renderPending() {
  for (const mode of TOP_VIEWS) {
    const box = $(`#${mode}-pending`);
    if (box) box.hidden = !(state.code && state.code.mode === mode && state.view === mode);
  }
}

/** Opens one of the top views (a link in the menu, the address's #view, back and forward). */
export function goTo(view, { focus = true } = {}) {
  if (view === 'language' && state.view && state.view !== 'language') state.previous = state.view;
  show(view, { focus });
}

export function route({ focus = true } = {}) {
  const h = location.hash.slice(1);
  goTo(TOP_VIEWS.includes(h) ? h : 'signup', { focus });
}

/** Back and Forward: the step the entry names, while it can still be shown; else its menu entry. */
export function onPopState(e) {
  const view = e.state && e.state.view;
  if (STEP_VIEWS.includes(view) && canShow(view) && `#${topOf(view)}` === location.hash) {
    if (view === 'code') renderCodeView();
    show(view);
    return;
  }
  route();
}

export function onViewLink(e) {
  const a = e.target.closest('[data-view-link]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  const view = a.dataset.viewLink;
  if (state.view !== view || location.hash !== `#${view}`) history.pushState({ view }, '', `#${view}`);
  goTo(view);
}

// ---------------------------------------------------------------- sign up

export async function onSignup(e) {
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

// ---------------------------------------------------------------- stop messages

export async function onStop(e) {
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
export function updateStopScope() {
  $('#stop-only').hidden = !$('#stop-scope-some').checked;
}

export function renderStopped() {
  const p = $('#stopped-text');
  const ch = state.stopped || [];
  if (!ch.length || ch.includes('all') || CHANNELS.every((c) => ch.includes(c))) {
    p.textContent = t('stopped_all');
  } else {
    p.textContent = t('stopped_some', { channels: formatList(CHANNELS.filter((c) => ch.includes(c)).map((c) => t(`ch_${c}`))) });
  }
}

// ---------------------------------------------------------------- codes

export function startCode(mode, changeId) {
  state.code = { mode, changeId, accepted: 0 };
  state.codeSince = Date.now();
  keepCode();
  const form = $('#code-form');
  form.reset();
  clearErrors(form);
  $('#code-accepted').textContent = '';
  renderCodeView();
  visit('code');
}

// A phone often reloads a tab the voter left for her messages: the code step outlives a reload
// of this tab, for as long as a code lives. Kept in this tab's session storage: the change's id
// and what the step shows (the hours asked for, the kinds stopped), nothing personal.
const CODE_KEY = 'wmb-code';
const CODE_LIFE_MS = 15 * 60 * 1000; // CODE_MINUTES (functions/core/src/access.rs)

/** Keeps the code step as it is now, or forgets it once it is over. */
function keepCode() {
  try {
    if (state.code) sessionStorage.setItem(CODE_KEY, JSON.stringify({ code: state.code, signup: state.signup, stopped: state.stopped, since: state.codeSince }));
    else {
      sessionStorage.removeItem(CODE_KEY);
      state.codeSince = null;
    }
  } catch {
    // Storage refused (a private window's quota): a reload loses the step, as before.
  }
}

/** The code step this tab kept before a reload, while its code can still be entered. */
function keptCode() {
  try {
    const kept = JSON.parse(sessionStorage.getItem(CODE_KEY) || 'null');
    const c = kept && kept.code;
    const usable = c && typeof c.changeId === 'string' && ['signup', 'ballot', 'stop'].includes(c.mode) && Number.isInteger(c.accepted);
    if (usable && Date.now() - kept.since < CODE_LIFE_MS) return kept;
    sessionStorage.removeItem(CODE_KEY);
  } catch {
    // Nothing kept, or storage refused.
  }
  return null;
}

/** Back to the code already sent (from its form, after Back or the menu). */
export function onResume() {
  if (!state.code) return;
  renderCodeView();
  visit('code');
}

/** What the voter will get once their choices are live (nothing, when only calls were chosen). */
export function confirmationText(choice) {
  const h = choice || { from: '08:00', until: '20:00' };
  return t(h.voiceOnly ? 'done_text_voice' : 'done_text', { from: formatTime(h.from), until: formatTime(h.until) });
}

export function renderCodeView() {
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

export async function onCode(e) {
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
    keepCode();
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
    keepCode();
    resetForm($('#stop-form'));
    renderStopped();
    visit('stopped', { replace: true });
    return;
  }
  c.accepted++;
  keepCode();
  renderCodeView();
  $('#code-code').focus();
}

export function onFinish() {
  state.code = null;
  keepCode();
  state.done = state.signup || { from: '08:00', until: '20:00', voiceOnly: false };
  resetForm($('#signup-form'));
  renderDone();
  visit('done', { replace: true });
}

/** "Start again": the code is dropped, and its form takes the code's place in the history. */
export function onRestart() {
  const mode = state.code ? state.code.mode : 'signup';
  state.code = null;
  keepCode();
  history.replaceState({ view: mode }, '', `#${mode}`);
  show(mode);
}

export function renderDone() {
  $('#done-text').textContent = confirmationText(state.done);
}

// ---------------------------------------------------------------- leaving the page

/**
 * Leaving the page (another site, reload, closing): what the code unlocked and whatever the
 * forms hold is forgotten, so that the browser's back-forward cache cannot show it again.
 */
export function onPageHide() {
  state.journey = null;
  renderJourney();
  for (const id of ['signup-form', 'ballot-form', 'stop-form', 'code-form']) resetForm($(`#${id}`));
}

/** Back from another site to this page as it was left: a view that was forgotten gives way. */
export function onPageShow(e) {
  if (!e.persisted || !state.view) return;
  if (!canShow(state.view)) route({ focus: false });
  else renderPending();
}

// ---------------------------------------------------------------- start

export async function start() {
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
  const kept = history.state && history.state.view === 'code' ? keptCode() : null;
  if (kept) {
    // Reloaded on the code step: back to it, its code still to be entered.
    Object.assign(state, { code: kept.code, signup: kept.signup, stopped: kept.stopped, codeSince: kept.since });
    renderCodeView();
    show('code', { focus: false });
  } else if (first) show('language', { focus: false });
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
