// Where's My Ballot: the voters' page. Plain JavaScript modules, no build step, no framework,
// no request to any other site. Every visible string comes from i18n/<language>.json. Personal
// data stays in this page's memory only: never in the URL, never in storage (only the chosen
// language is remembered).
//
// This module: the page's constants and its state, shared by the others (strings.js: strings,
// dates and the language; forms.js: errors, the API and reading the forms; ballot.js: my ballot;
// app.js: views, sign-up, stop, codes, and the start).

export const LANGS = ['en', 'es', 'zh', 'hi', 'ja', 'km', 'ko', 'tl', 'th', 'vi'];
// Each language's name in itself (an endonym: the same whatever the page's language).
export const NATIVE = {
  en: 'English', es: 'Español', zh: '中文', hi: 'हिन्दी', ja: '日本語',
  km: 'ភាសាខ្មែរ', ko: '한국어', tl: 'Tagalog', th: 'ไทย', vi: 'Tiếng Việt',
};
export const STORE_KEY = 'wmb-language';
export const TZ = 'America/Los_Angeles';
export const TOP_VIEWS = ['language', 'signup', 'ballot', 'stop'];
export const CHANNELS = ['sms', 'email', 'voice'];
export const MILESTONES = ['outbound', 'inbound', 'received', 'accepted', 'not_accepted', 'contact_county', 'undeliverable', 'reissued', 'in_person'];
// Refusals whose advice concerns one contact field, when the answer names it.
export const CONTACT_REFUSALS = ['contact_in_use', 'contact_stopped', 'too_many_codes', 'calls_unavailable'];
export const CODE_REFUSALS = ['wrong_code', 'expired', 'too_many_attempts'];
// The fields the server may name in an answer (`field`): anything else is not looked up.
export const FIELDS = ['first_name', 'last_name', 'date_of_birth', 'zip', 'votecal_id', 'sms', 'email', 'voice', 'language', 'notify_from', 'notify_until', 'channels', 'code'];
// The views a code leads to: each is a step in the browser's history, shown again (Back,
// Forward) only while this page's memory still holds what it shows.
export const STEP_VIEWS = ['code', 'done', 'journey', 'stopped'];

export const state = {
  lang: 'en',
  dict: {},
  en: {},
  view: null,
  previous: null,
  busy: false,
  msgLangTouched: false,
  code: null, // { mode: 'signup' | 'ballot' | 'stop', changeId, accepted }
  codeSince: null, // when that code was asked for (Date.now()): the step outlives a reload until it expires
  signup: null, // what the last sign-up asked for (no personal data): { from, until, voiceOnly }
  done: null, // the same, once Finish was chosen (the final view)
  journey: null, // the /ballot/view answer, while it is shown
  journeyLang: null,
  stopped: null, // the channels stopped
  countyUrls: new Set(), // the county websites the server named (links allowed in advice)
  errors: {}, // per form: { summary: [{ key, args, raw }], fields: { field: key } }
};

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
