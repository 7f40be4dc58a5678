// The voters' page: errors shown with their fields, the API, and reading what the voter typed
// (see page.js).

import { $, $$, CODE_REFUSALS, CONTACT_REFUSALS, FIELDS, state } from './page.js';
import { formatDay, raw, setRich, t, textEl } from './strings.js';
import { updateStopScope } from './app.js';

// ---------------------------------------------------------------- errors

export function formName(form) {
  return form.id.replace(/-form$/, '');
}

export function clearErrors(form) {
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
export function resetForm(form) {
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

export function controlsOf(wrap) {
  return wrap.tagName === 'FIELDSET' ? $$('input', wrap) : [$('input, select', wrap)];
}

export function setFieldError(form, field, key) {
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
export function showErrors(form, { advice = [], fields = {} } = {}) {
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
export function showAnswerError(form, res) {
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
export async function post(path, body) {
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

export async function send(form, path, body, ok) {
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
export const DIGIT_ZEROS = [0xff10, 0x0966, 0x0e50, 0x17e0, 0x0660, 0x06f0, 0x09e6, 0x0ed0, 0x1040];

export function asciiDigits(text) {
  return text.replace(/\p{Nd}/gu, (c) => {
    const cp = c.codePointAt(0);
    const zero = DIGIT_ZEROS.find((z) => cp >= z && cp <= z + 9);
    return zero === undefined ? c : String(cp - zero);
  });
}

export function value(form, name) {
  const el = form.elements.namedItem(name);
  return el ? asciiDigits(el.value.trim()) : '';
}

/** A US phone number as typed ("(510) 555-0101", "510.555.0101", "+1 510 555 0101") in E.164. */
export function toE164(text) {
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
export function isoDate(text) {
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
export function echoBirthDate(input) {
  const out = document.getElementById(`${input.id}-read`);
  if (!out) return;
  const iso = isoDate(asciiDigits(input.value.trim()));
  // (Always in the page, empty when there is nothing to say: a live region that appears with its
  // text is often not read out.)
  out.textContent = iso ? t('dob_read_as', { date: formatDay(iso) }) : '';
}

/** Adds or removes one id in an element's aria-describedby, keeping the others. */
export function describedBy(el, id, on) {
  const ids = (el.getAttribute('aria-describedby') || '').split(/\s+/).filter((x) => x && x !== id);
  if (on) ids.push(id);
  el.setAttribute('aria-describedby', ids.join(' '));
}

/** Messages' languages a call that reads a code does not speak (no Polly voice; Chinese calls
 * play recordings only, see functions/core/src/voice.rs): such a call is in English. */
export const NO_CODE_VOICE = ['zh', 'km', 'tl', 'th', 'vi'];

/** Under the phone-call field, when the messages' language is one of NO_CODE_VOICE, says so. */
export function noteCodeVoice() {
  const lang = $('#signup-language').value;
  const note = $('#signup-voice-code');
  const shown = NO_CODE_VOICE.includes(lang);
  note.textContent = shown ? t('voice_code_english') : '';
  note.hidden = !shown;
  describedBy($('#signup-voice'), 'signup-voice-code', shown);
}

/** Reads who the voter says they are; checks what can be checked here. */
export function readIdentity(form, errors) {
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
