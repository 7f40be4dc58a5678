// The voters' page: "my ballot", the statuses of a ballot as the API answers them (see page.js).

import { $, MILESTONES, state } from './page.js';
import { formatClock, formatDate, formatDay, t, textEl } from './strings.js';
import { clearErrors, readIdentity, send, showErrors } from './forms.js';
import { startCode } from './app.js';

// ---------------------------------------------------------------- my ballot

/** The statuses whose ask has a deadline: past it, the page says so instead of asking. */
const CLOSES = ['contact_county', 'not_accepted', 'undeliverable'];

export async function onBallot(e) {
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

export function renderJourney() {
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
    // Until when she can act, and once that has passed, that it has (not "you can fix this").
    const by = el.act_by ? new Date(el.act_by) : null;
    const when = by && !Number.isNaN(by.getTime()) ? { time: formatClock(by), date: formatDate(by) } : null;
    const closed = Boolean(el.too_late) && CLOSES.includes(current) && (current !== 'contact_county' || when !== null);
    const reviewing = current === 'contact_county' && Boolean(el.in_review);
    if (el.needs_action || closed) {
      // Why, next to the status (the latest reason given for it; else the latest reason).
      const withReason = events.filter((ev) => ev.type !== 'scan' && ev.reason);
      const ev = withReason.filter((x) => x.milestone === el.current).pop() || withReason.pop();
      if (ev) {
        const why = reasonEl(ev.reason, jl);
        why.classList.add('status-reason');
        status.append(why);
      }
    }
    const next = reviewing ? 'review_contact_county' : `${closed ? 'c' : 'n'}_${current}`;
    status.append(textEl('p', current ? next : (unknown ? 'status_unknown_next' : 'status_none_next'), closed ? when : null));
    if (el.needs_action && !closed && CLOSES.includes(current) && when) {
      status.append(textEl('p', current === 'contact_county' ? 'fix_by' : 'vote_by', when, { className: 'deadline' }));
    }
    article.append(status);

    const contact = el.county_contact || {};
    const phone = contact.phone && /^\+?[\d\s().-]{10,20}$/.test(contact.phone) && /^1?\d{10}$/.test(String(contact.phone).replace(/\D/g, '')) ? contact.phone : null;
    const email = mailOf(contact.email);
    const site = contact.url ? safeSite(contact.url) : null;
    const showContact = el.needs_action || closed || current === 'not_accepted' || current === 'undeliverable' || unknown;
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
export function reasonEl(text, lang, tag = 'p', className = '') {
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
export function mailOf(text) {
  const s0 = String(text || '').trim();
  return /^[A-Za-z0-9._+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/.test(s0) ? s0 : null;
}

/** The county's website as a link target: https only, no user name or password in it. */
export function safeSite(text) {
  let u;
  try {
    u = new URL(String(text));
  } catch {
    return null;
  }
  return u.protocol === 'https:' && !u.username && !u.password ? String(text).trim() : null;
}

export function telOf(phone) {
  const digits = String(phone).replace(/\D/g, '');
  return digits.length === 10 ? `+1${digits}` : `+${digits}`;
}
