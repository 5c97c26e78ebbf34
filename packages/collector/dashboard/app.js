// Callmetry dashboard: plain JavaScript, no build step. Talks to the collector's query API with
// the app's credentials (Basic auth), kept in sessionStorage for this tab only.
'use strict';

(function () {
  const STORAGE_KEY = 'callmetry.credentials';
  const view = document.getElementById('view');
  const sessionNav = document.getElementById('session');
  const sessionApp = document.getElementById('session-app');
  let charts = [];
  let listTimer = null;
  /** Incremented by every render: a response that arrives after the user moved on is dropped. */
  let renderSeq = 0;

  // ------------------------------------------------------------------ helpers

  /** Builds an element; children are nodes or strings (always inserted as text, never as HTML). */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k === 'style') Object.assign(el.style, v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  // Strings sent by SDK clients (IDs, names, messages, data) are shown as text only, never as
  // HTML, and through these helpers: bidi-isolated (a U+202E in a user ID must not reverse the text
  // around it), clipped where they go into titles and chart labels, and collapsed when long.

  /** `s` as a bidi isolate (FSI ... PDI); isolate controls inside are dropped so it cannot close early. */
  function iso(s) {
    return `\u2068${String(s).replace(/[\u2066-\u2069]/g, '')}\u2069`;
  }

  /** At most `max` characters (not cutting a surrogate pair), with an ellipsis when cut. */
  function clipText(s, max) {
    s = String(s);
    if (s.length <= max) return s;
    let end = max - 1;
    const c = s.charCodeAt(end - 1);
    if (c >= 0xd800 && c <= 0xdbff) end--;
    return `${s.slice(0, end)}…`;
  }

  /** A client's ID or name: one line, ellipsis past the column's width, whole in the tooltip. */
  function idText(s, cls) {
    if (s === null || s === undefined || s === '') return h('span', { class: 'muted', text: '–' });
    return h('span', { class: `id${cls ? ` ${cls}` : ''}`, title: clipText(s, 1000), text: iso(s) });
  }

  const LONG_CHARS = 300;
  const LONG_LINES = 6;
  /** Free text (messages, comments, data): newlines kept, long words wrapped, a long one collapsed. */
  function longText(s, cls) {
    s = String(s);
    let cut = clipText(s, LONG_CHARS);
    const lines = cut.split('\n');
    if (lines.length > LONG_LINES) cut = `${lines.slice(0, LONG_LINES).join('\n')}…`;
    const box = h('span', { class: `text${cls ? ` ${cls}` : ''}`, text: iso(cut === s ? s : cut) });
    if (cut === s) return box;
    const more = h('button', {
      type: 'button',
      class: 'more',
      text: `show all (${s.length.toLocaleString()} characters)`,
      onclick: () => {
        box.replaceChildren(...breakable(iso(s)));
        box.classList.add('full');
        more.remove();
      },
    });
    return h('span', {}, box, ' ', more);
  }

  /**
   * `s` as text nodes with a <wbr> after every 80 characters without whitespace: left to break a
   * 100 KB word by itself, Chromium lays it out for seconds; with <wbr> it takes milliseconds, and
   * copying the text gives it back unchanged.
   */
  function breakable(s) {
    const out = [];
    const run = /\S{80}/g;
    let last = 0;
    while (run.exec(s)) {
      let end = run.lastIndex;
      const c = s.charCodeAt(end - 1);
      if (c >= 0xd800 && c <= 0xdbff) run.lastIndex = --end; // not inside a surrogate pair
      out.push(s.slice(last, end), document.createElement('wbr'));
      last = end;
    }
    out.push(s.slice(last));
    return out;
  }

  function credentials() {
    try {
      const c = JSON.parse(sessionStorage.getItem(STORAGE_KEY) || 'null');
      return c && typeof c.appID === 'string' && typeof c.secret === 'string' ? c : null;
    } catch {
      return null;
    }
  }

  function authHeader(c) {
    const bytes = new TextEncoder().encode(`${c.appID}:${c.secret}`);
    let bin = '';
    for (const b of bytes) bin += String.fromCharCode(b);
    return `Basic ${btoa(bin)}`;
  }

  class ApiError extends Error {
    /** status 0: no (whole) answer: the collector is down or the connection broke. */
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  const NETWORK_MESSAGE = 'Cannot reach the collector: it may be stopped or restarting, or the network is down. Try again in a moment.';

  /** Seconds from a 429 (Retry-After, else the number in the message), at least 1. */
  function retrySeconds(res, body) {
    const header = Number(res.headers.get('Retry-After'));
    if (Number.isFinite(header) && header > 0) return Math.ceil(header);
    const m = body && typeof body.message === 'string' ? /(\d+)\s*s\b/.exec(body.message) : null;
    return m ? Math.max(1, Number(m[1])) : 60;
  }

  /** What the user reads for an answer that is not 2xx. */
  function errorFor(res, body) {
    const code = body && typeof body.error === 'string' ? body.error : null;
    const message = body && typeof body.message === 'string' ? body.message : null;
    if (res.status === 429) {
      const s = retrySeconds(res, body);
      return new ApiError(429, code || 'too_many_failures', `Too many failed sign-ins from this address; try again in ${s} s.`);
    }
    if (res.status === 401) return new ApiError(401, code, 'Unknown app or wrong secret.');
    if (!code) {
      // Not the collector's JSON: a proxy's error page, or the collector going down mid-answer.
      const what = res.status >= 500 ? 'the collector or a proxy in front of it failed' : 'this is not an answer of the collector query API';
      return new ApiError(res.status, null, `The collector answered HTTP ${res.status} (${what}). Try again in a moment.`);
    }
    return new ApiError(res.status, code, message || `HTTP ${res.status}`);
  }

  async function api(path, c = credentials()) {
    if (!c) throw new ApiError(401, 'unauthorized', 'Sign in first.');
    let res;
    let body = null;
    try {
      res = await fetch(`/v1/apps/${encodeURIComponent(c.appID)}${path}`, {
        headers: { Authorization: authHeader(c), Accept: 'application/json' },
        cache: 'no-store',
      });
    } catch {
      throw new ApiError(0, 'network', NETWORK_MESSAGE);
    }
    try {
      body = await res.json();
    } catch {
      // Not JSON, or the connection broke mid-answer (e.g. the collector stopped).
      if (res.ok) throw new ApiError(0, 'network', 'The answer of the collector was cut off or is not JSON. Try again in a moment.');
    }
    if (!res.ok) throw errorFor(res, body);
    return body;
  }

  const fmtTime = (t) =>
    new Date(t).toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const fmtClock = (t) => new Date(t).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

  function fmtDuration(ms) {
    if (!Number.isFinite(ms) || ms < 0) return '–';
    const s = Math.round(ms / 1000);
    const hh = Math.floor(s / 3600);
    const mm = Math.floor((s % 3600) / 60);
    const ss = s % 60;
    if (hh) return `${hh} h ${String(mm).padStart(2, '0')} min`;
    if (mm) return `${mm} min ${String(ss).padStart(2, '0')} s`;
    return `${ss} s`;
  }

  function fmtOffset(seconds) {
    const s = Math.max(0, Math.round(seconds));
    const m = Math.floor(s / 60);
    return `${m}:${String(s % 60).padStart(2, '0')}`;
  }

  function fmtNum(v, digits = 0, unit = '') {
    if (v === null || v === undefined || !Number.isFinite(v)) return '–';
    return `${v.toLocaleString(undefined, { maximumFractionDigits: digits, minimumFractionDigits: 0 })}${unit}`;
  }
  const fmtPct = (v) => (v === null || v === undefined ? '–' : fmtNum(v * 100, 1, ' %'));

  function qualityBadge(q) {
    return q ? h('span', { class: `badge q-${q}`, text: q }) : h('span', { class: 'muted', text: '–' });
  }

  const STATE_LABEL = {
    new: 'connecting',
    established: 'established',
    hold: 'on hold',
    disrupted: 'disrupted',
    terminated: 'terminated',
    failed: 'failed',
  };
  function stateBadge(s) {
    return h('span', { class: `badge s-${s}`, text: STATE_LABEL[s] || s });
  }

  function destroyCharts() {
    for (const c of charts) c.destroy();
    charts = [];
  }

  function setView(...nodes) {
    destroyCharts();
    view.replaceChildren(...nodes.filter((n) => n !== null && n !== undefined && n !== false));
  }

  function showError(e) {
    if (e instanceof ApiError && e.status === 401) {
      sessionStorage.removeItem(STORAGE_KEY);
      renderLogin('Your credentials were refused (the collector may have restarted with other apps). Sign in again.');
      return;
    }
    const title = !(e instanceof ApiError) ? 'Something went wrong' : e.status === 0 ? 'Collector unreachable' : e.status === 429 ? 'Too many failed sign-ins' : 'The collector refused the request';
    setView(
      h(
        'div',
        { class: 'card error-card' },
        h('h2', { text: title }),
        h('p', { class: 'error-message', text: e.message || String(e) }),
        h('p', {}, h('button', { type: 'button', class: 'secondary', text: 'Try again', onclick: () => route() }), ' ', h('a', { href: '#/', text: '← Back to conferences' })),
      ),
    );
  }

  function updateSession() {
    const c = credentials();
    sessionNav.hidden = !c;
    sessionApp.textContent = c ? c.appID : '';
  }

  // ------------------------------------------------------------------ login

  function renderLogin(message) {
    renderSeq++; // an answer still on its way must not replace the form
    updateSession();
    const appID = h('input', { id: 'login-app', name: 'appID', autocomplete: 'username', required: true, spellcheck: 'false', placeholder: 'my-app' });
    const secret = h('input', { id: 'login-secret', name: 'secret', type: 'password', autocomplete: 'current-password', required: true });
    const status = h('p', { class: 'form-error', role: 'alert', text: message || '' });
    const button = h('button', { type: 'submit', class: 'primary', text: 'Sign in' });
    const form = h(
      'form',
      {
        class: 'card login',
        onsubmit: async (ev) => {
          ev.preventDefault();
          const c = { appID: appID.value.trim(), secret: secret.value };
          button.disabled = true;
          status.textContent = '';
          try {
            await api('/conferences?limit=1', c);
            sessionStorage.setItem(STORAGE_KEY, JSON.stringify(c));
            route(); // the page asked for (a conference link opened before signing in), else the list
          } catch (e) {
            status.textContent = e instanceof ApiError ? e.message : `Sign-in failed: ${e.message || e}`;
          } finally {
            button.disabled = false;
          }
        },
      },
      h('h1', { text: 'Sign in' }),
      h('p', { class: 'muted', text: "Use your app's ID and secret, as configured on this collector. They are kept for this tab only." }),
      h('label', { for: 'login-app', text: 'App ID' }),
      appID,
      h('label', { for: 'login-secret', text: 'App secret' }),
      secret,
      status,
      button,
    );
    setView(h('div', { class: 'login-wrap' }, form));
    appID.focus();
  }

  // ------------------------------------------------------------------ conference list

  /** Refreshes the list every 15 s while it is shown (also after an error: the collector may be back). */
  function scheduleListRefresh() {
    clearTimeout(listTimer);
    listTimer = setTimeout(() => {
      if (credentials() && currentRoute().name === 'list') renderList();
    }, 15000);
  }

  async function renderList() {
    const seq = ++renderSeq;
    const refresh = h('button', { type: 'button', class: 'secondary', text: 'Refresh', onclick: () => renderList() });
    let data;
    try {
      data = await api('/conferences');
    } catch (e) {
      if (seq !== renderSeq) return;
      showError(e);
      if (!(e instanceof ApiError && e.status === 401)) scheduleListRefresh();
      return;
    }
    if (seq !== renderSeq) return;
    const rows = data.conferences.map((c) =>
      h(
        'tr',
        { class: 'clickable', tabindex: '0', onclick: () => go(c.conferenceID), onkeydown: (e) => e.key === 'Enter' && go(c.conferenceID) },
        h('td', {}, h('a', { href: `#/conference/${encodeURIComponent(c.conferenceID)}`, class: 'mono id id-wide', title: clipText(c.conferenceID, 1000), text: iso(c.conferenceID) })),
        h('td', { class: 'nowrap', text: fmtTime(c.firstSeen) }),
        h('td', { class: 'nowrap', text: fmtDuration(c.lastSeen - c.firstSeen) }),
        h('td', { class: 'num', text: c.participantCount }),
        h('td', { class: 'num', text: c.fabricCount }),
        h('td', { class: 'num' }, c.errorCount ? h('span', { class: 'badge s-failed', text: c.errorCount }) : '0'),
        h('td', {}, c.summarized ? h('span', { class: 'badge done', text: 'ended' }) : h('span', { class: 'badge live', text: 'active' })),
      ),
    );
    const table = rows.length
      ? h(
          'table',
          { class: 'data' },
          h(
            'thead',
            {},
            h('tr', {}, ['Conference', 'Started', 'Duration', 'Participants', 'Fabrics', 'Errors', 'Status'].map((t, i) => h('th', { class: i >= 3 && i <= 5 ? 'num' : '', text: t }))),
          ),
          h('tbody', {}, rows),
        )
      : h(
          'div',
          { class: 'empty' },
          h('p', { text: 'No conferences yet.' }),
          h('p', { class: 'muted', text: 'Initialize the Callmetry SDK with this app ID and point it at this collector; conferences show up here as data arrives.' }),
        );
    setView(
      h('div', { class: 'page-head' }, h('div', {}, h('h1', { text: 'Conferences' }), h('p', { class: 'muted', text: `${data.conferences.length} most recent, newest first` })), refresh),
      h('div', { class: 'card flush' }, table),
    );
    scheduleListRefresh();
  }

  function go(conferenceID) {
    location.hash = `#/conference/${encodeURIComponent(conferenceID)}`;
  }

  // ------------------------------------------------------------------ conference detail

  const PALETTE = ['#2563eb', '#db2777', '#059669', '#d97706', '#7c3aed', '#0891b2', '#dc2626', '#65a30d', '#9333ea', '#0f766e'];

  /** "alice → bob · audio (sent)": who sends to whom, and from whose side the stats are. */
  function streamLabel(s, fabrics) {
    const f = fabrics.get(`${s.sid}\u0000${s.fabricID}`);
    const who = (id) => iso(clipText(id || '?', 60));
    const local = f && f.localUserID;
    const remote = f && f.remoteUserID;
    const media = s.mediaType || 'media';
    if (s.statsType === 'outbound-rtp') return `${who(s.userID || local)} → ${who(remote)} · ${media} (sent)`;
    if (s.statsType === 'inbound-rtp') return `${who(s.userID || remote)} → ${who(local)} · ${media} (received)`;
    return `${who(s.userID || local)} · ${media} · ${who(s.key)}`;
  }

  /** The time axis length (s): the duration rounded up to a whole number of steps (>= 10 s). */
  function niceSpan(seconds) {
    const s = Math.max(seconds, 10);
    const step = niceStep(s);
    return Math.ceil(s / step - 1e-9) * step;
  }

  /** A step (s) for time axes giving at most ~8 ticks. */
  function niceStep(spanSeconds) {
    const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200];
    for (const st of steps) if (spanSeconds / st <= 8) return st;
    return Math.ceil(spanSeconds / 8 / 3600) * 3600;
  }

  function stat(label, value, hint) {
    return h('div', { class: 'stat' }, h('div', { class: 'stat-label', text: label }), h('div', { class: 'stat-value' }, value), hint ? h('div', { class: 'stat-hint', text: hint }) : null);
  }

  function section(title, ...content) {
    return h('section', { class: 'card' }, h('h2', { text: title }), ...content);
  }

  const EVENT_ICON = {
    fabricSetup: '▶',
    fabricSetupFailed: '✕',
    fabricTerminated: '■',
    fabricHold: '‖',
    fabricResume: '▶',
    connectionDisruptionStart: '⚡',
    connectionDisruptionEnd: '✓',
    audioMute: 'M',
    audioUnmute: 'm',
    videoPause: 'V',
    videoResume: 'v',
    screenShareStart: 'S',
    screenShareStop: 's',
  };
  const STATE_OF_EVENT = {
    fabricSetup: 'established',
    fabricHold: 'hold',
    fabricResume: 'established',
    connectionDisruptionStart: 'disrupted',
    connectionDisruptionEnd: 'established',
    fabricTerminated: 'terminated',
    fabricSetupFailed: 'failed',
  };

  /** table[key] for the table's own keys only: event names come from clients ("constructor", "toString"...). */
  function own(table, key) {
    return Object.prototype.hasOwnProperty.call(table, key) ? table[key] : undefined;
  }

  function eventClass(ev) {
    if (ev === 'fabricSetupFailed') return 'ev-bad';
    if (ev.startsWith('connectionDisruption')) return 'ev-warn';
    if (ev === 'fabricSetup' || ev === 'fabricTerminated') return 'ev-main';
    if (ev === 'fabricHold' || ev === 'fabricResume') return 'ev-hold';
    return 'ev-media';
  }

  function describeData(data) {
    if (!data || typeof data !== 'object') return '';
    return Object.entries(data)
      .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`)
      .join(', ');
  }

  /** "who → whom" of a fabric (or its ID when the fabric item never arrived), isolated pieces. */
  function fabricName(f) {
    return f.localUserID ? `${iso(f.localUserID)} → ${iso(f.remoteUserID || '?')}` : iso(f.fabricID);
  }

  function timeline(d) {
    const t0 = d.firstSeen;
    const t1 = t0 + niceSpan((d.lastSeen - t0) / 1000) * 1000;
    const pos = (t) => `${Math.min(100, Math.max(0, ((t - t0) / (t1 - t0)) * 100))}%`;
    const width = (a, b) => `${Math.max(0.4, ((Math.min(b, t1) - Math.max(a, t0)) / (t1 - t0)) * 100)}%`;

    const lanes = d.fabrics.map((f) => {
      // State segments from the events, in the client's order.
      const segments = [];
      let state = 'new';
      let since = f.firstSeen;
      for (const e of f.events) {
        const next = own(STATE_OF_EVENT, e.event);
        if (!next) continue;
        if (e.t > since) segments.push({ state, from: since, to: e.t });
        state = next;
        since = e.t;
      }
      const end = state === 'terminated' || state === 'failed' ? since : Math.max(f.lastSeen, since);
      if (end > since || segments.length === 0) segments.push({ state, from: since, to: Math.max(end, since) });

      const bar = h('div', { class: 'lane-bar' });
      for (const s of segments) {
        if (s.state === 'terminated') continue;
        bar.append(h('div', { class: `seg seg-${s.state}`, title: `${STATE_LABEL[s.state]}: ${fmtClock(s.from)} – ${fmtClock(s.to)}`, style: { left: pos(s.from), width: width(s.from, s.to) } }));
      }
      for (const e of f.events) {
        bar.append(
          h('div', {
            class: `marker ${eventClass(e.event)}`,
            title: clipText(`${fmtClock(e.t)} ${iso(e.event)}${e.data ? ` (${iso(describeData(e.data))})` : ''}`, 300),
            style: { left: pos(e.t) },
            text: own(EVENT_ICON, e.event) || '•',
          }),
        );
      }
      for (const err of d.errors.filter((x) => x.fabricID === f.fabricID && x.sid === f.sid)) {
        bar.append(h('div', { class: 'marker ev-error', title: clipText(`${fmtClock(err.t)} error in ${iso(err.fn)}: ${iso(err.message)}`, 300), style: { left: pos(err.t) }, text: '!' }));
      }
      const who = fabricName(f);
      return h(
        'div',
        { class: 'lane' },
        h(
          'div',
          { class: 'lane-label' },
          h('div', { class: 'lane-title', title: clipText(who, 600), text: who }),
          h(
            'div',
            { class: 'lane-meta' },
            stateBadge(f.state),
            h('span', { class: 'muted', text: ` ${f.fabricUsage ? iso(f.fabricUsage) : ''}${f.remoteEndpointType ? ` · ${f.remoteEndpointType}` : ''}` }),
          ),
        ),
        bar,
      );
    });

    const ticks = h('div', { class: 'lane-axis' });
    const span = (t1 - t0) / 1000;
    const step = niceStep(span);
    for (let x = 0; x <= span + 1e-9; x += step) {
      ticks.append(h('span', { class: `tick${x + step > span + 1e-9 ? ' tick-end' : ''}`, style: { left: `${(x / span) * 100}%` }, text: fmtOffset(x) }));
    }

    const legend = h(
      'div',
      { class: 'legend' },
      ['established', 'hold', 'disrupted', 'failed', 'new'].map((s) => h('span', {}, h('i', { class: `swatch seg-${s}` }), STATE_LABEL[s])),
      h('span', {}, h('i', { class: 'swatch ev-error-swatch' }), 'error'),
    );

    // All events as a readable list, in time order.
    const rows = [];
    for (const f of d.fabrics) {
      for (const e of f.events) rows.push({ t: e.t, who: f.localUserID || f.fabricID, fabric: f.fabricID, what: e.event, detail: describeData(e.data), cls: eventClass(e.event) });
    }
    for (const e of d.events) rows.push({ t: e.t, who: e.userID, fabric: '', what: e.event, detail: describeData(e.data), cls: 'ev-media' });
    for (const e of d.errors) rows.push({ t: e.t, who: e.userID, fabric: e.fabricID || '', what: `error: ${e.fn}`, detail: e.message, cls: 'ev-error' });
    rows.sort((a, b) => a.t - b.t);
    // The rows are built when the list is first opened: a client may have sent thousands of events.
    const tbody = h('tbody');
    const list = h(
      'details',
      {
        class: 'events',
        ontoggle: (ev) => {
          if (!ev.currentTarget.open || tbody.childElementCount) return;
          tbody.append(
            ...rows.map((r) =>
              h(
                'tr',
                {},
                h('td', { class: 'mono nowrap', text: `+${fmtOffset((r.t - t0) / 1000)}` }),
                h('td', {}, idText(r.who)),
                h('td', { class: 'mono' }, idText(r.fabric)),
                h('td', {}, h('span', { class: `chip id ${r.cls}`, title: clipText(r.what, 1000), text: iso(r.what) })),
                h('td', { class: 'wrap' }, r.detail ? longText(r.detail) : ''),
              ),
            ),
          );
        },
      },
      h('summary', { text: `All events (${rows.length})` }),
      rows.length
        ? h('table', { class: 'data compact' }, h('thead', {}, h('tr', {}, ['Time', 'User', 'Fabric', 'Event', 'Details'].map((t) => h('th', { text: t })))), tbody)
        : h('p', { class: 'muted', text: 'No events, errors or state changes were received.' }),
    );

    return section('Fabric timeline', d.fabrics.length ? h('div', { class: 'timeline' }, lanes, h('div', { class: 'lane' }, h('div', { class: 'lane-label' }), ticks)) : h('p', { class: 'muted', text: 'No fabrics.' }), legend, list);
  }

  /** Streams drawn at once above which the chart legend is left out: colours repeat, the table names them. */
  const LEGEND_MAX = PALETTE.length;

  /**
   * One chart of `entries` ({s: stream, i: its index in the conference, for its colour}). The chart
   * is drawn in a task of its own (a big conference must not freeze the page in one long task) and
   * only if its canvas is still shown by then; it is added to `owned` for whoever replaces it.
   */
  function chartCard(title, unit, entries, pick, t0, fabrics, span, owned) {
    const canvas = h('canvas', { 'aria-label': `${title} per stream`, role: 'img' });
    const card = h('div', { class: 'chart-card' }, h('h3', {}, title, h('span', { class: 'muted unit', text: unit ? ` (${unit})` : '' })), h('div', { class: 'chart-box' }, canvas));
    const many = entries.length > LEGEND_MAX || entries.some(({ s }) => s.series.length > 300);
    const datasets = entries
      .map(({ s, i }) => ({
        label: streamLabel(s, fabrics),
        data: s.series.filter((p) => pick(p) !== null && pick(p) !== undefined).map((p) => ({ x: (p.t - t0) / 1000, y: pick(p) })),
        borderColor: PALETTE[i % PALETTE.length],
        backgroundColor: PALETTE[i % PALETTE.length],
        borderWidth: entries.length > LEGEND_MAX ? 1 : 2,
        pointRadius: s.series.length > 60 ? 0 : 2,
        // Straight segments for long series: chart.js then draws them on its fast path.
        tension: many ? 0 : 0.25,
        cubicInterpolationMode: many ? 'default' : 'monotone', // no overshoot or loops between close samples
      }))
      .filter((ds) => ds.data.length > 0);
    if (!window.Chart) {
      card.append(h('p', { class: 'muted', text: 'Charts unavailable (chart.js did not load).' }));
      return card;
    }
    if (datasets.length === 0) {
      card.querySelector('.chart-box').replaceChildren(h('p', { class: 'muted empty-chart', text: 'No data' }));
      return card;
    }
    setTimeout(() => {
      if (!canvas.isConnected) return;
      const chart = new window.Chart(canvas, {
        type: 'line',
        data: { datasets },
        options: {
          animation: false,
          maintainAspectRatio: false,
          parsing: false,
          normalized: true,
          interaction: { mode: 'nearest', intersect: false },
          scales: {
            x: { type: 'linear', min: 0, max: span, ticks: { callback: (v) => fmtOffset(v), stepSize: niceStep(span) }, grid: { color: '#eef0f4' } },
            y: { beginAtZero: true, grid: { color: '#eef0f4' } },
          },
          plugins: {
            legend: { display: datasets.length <= LEGEND_MAX, position: 'bottom', labels: { boxWidth: 10, boxHeight: 10, font: { size: 11 } } },
            tooltip: { callbacks: { title: (items) => (items[0] ? `+${fmtOffset(items[0].parsed.x)}` : '') } },
          },
        },
      });
      charts.push(chart);
      owned.push(chart);
    }, 0);
    return card;
  }

  /** The charts and the stream table of the conference, for every stream or one fabric's. */
  /**
   * Minutes from the conference's start: "Show" reloads the conference with that window, whose
   * series the collector sends at full resolution (the whole conference is averaged to 1000 points).
   */
  function windowControl(conferenceID, d, t0, win) {
    const minutes = (ms) => String(Math.max(0, Math.round(((ms - t0) / 60_000) * 10) / 10));
    const input = (id, ms) => h('input', { type: 'number', id, min: '0', step: 'any', value: minutes(ms), class: 'window-input' });
    const from = input('window-from', win ? win.from : t0);
    const to = input('window-to', win ? win.to : d.lastSeen + 60_000);
    const problem = h('span', { class: 'form-error' });
    const base = `#/conference/${encodeURIComponent(conferenceID)}`;
    return h(
      'form',
      {
        class: 'window-form muted',
        onsubmit: (ev) => {
          ev.preventDefault();
          const a = Math.floor(t0 + Number(from.value) * 60_000);
          const b = Math.ceil(t0 + Number(to.value) * 60_000);
          if (!(Number.isFinite(a) && Number.isFinite(b) && b > a && a >= 0)) {
            problem.textContent = ' The end must be after the start.';
            return;
          }
          location.hash = `${base}?from=${a}&to=${b}`;
        },
      },
      win ? 'Series of minutes ' : 'Whole conference (averaged). Minutes ',
      from,
      ' to ',
      to,
      ' ',
      h('button', { type: 'submit', class: 'secondary', text: 'Show at full resolution' }),
      win ? h('a', { href: base, class: 'window-whole', text: 'Whole conference' }) : null,
      problem,
    );
  }

  function mediaSection(d, t0, fabricsById, span, windowForm) {
    const all = d.streams.map((s, i) => ({ s, i }));
    const fabricKey = (s) => `${s.sid}\u0000${s.fabricID}`;
    const groups = [];
    const byKey = new Map();
    for (const e of all) {
      const k = fabricKey(e.s);
      if (!byKey.has(k)) {
        const g = { key: k, entries: [] };
        byKey.set(k, g);
        groups.push(g);
      }
      byKey.get(k).entries.push(e);
    }
    const body = h('div');
    const drawn = [];
    const draw = (entries) => {
      for (const c of drawn.splice(0)) {
        c.destroy();
        charts = charts.filter((x) => x !== c);
      }
      const args = [t0, fabricsById, span, drawn];
      body.replaceChildren(
        ...[
          h(
            'div',
            { class: 'chart-grid' },
            chartCard('Bitrate', 'kbps', entries, (p) => p.bitrate, ...args),
            chartCard('Packet loss', '%', entries, (p) => (typeof p.fractionLoss === 'number' ? Math.round(p.fractionLoss * 1000) / 10 : null), ...args),
            chartCard('Round-trip time', 'ms', entries, (p) => p.rtt, ...args),
            chartCard('Jitter', 'ms', entries, (p) => p.jitter, ...args),
          ),
          entries.length > LEGEND_MAX ? h('p', { class: 'muted chart-note', text: `${entries.length} streams: hover a line for its name, or show one fabric at a time.` }) : null,
          streamsTable(entries, fabricsById),
        ].filter(Boolean),
      );
    };
    let picker = null;
    if (groups.length > 1) {
      const select = h(
        'select',
        { id: 'stream-filter', onchange: () => draw(select.value === '' ? all : groups[Number(select.value)].entries) },
        h('option', { value: '', text: `All streams (${all.length})` }),
        groups.map((g, n) => {
          const f = fabricsById.get(g.key);
          const name = f ? fabricName(f) : iso(g.entries[0].s.fabricID);
          return h('option', { value: String(n), text: `${clipText(name, 120)} (${g.entries.length})` });
        }),
      );
      picker = h('label', { class: 'stream-filter muted' }, 'Show ', select);
    }
    draw(all);
    return h('section', { class: 'card' }, h('div', { class: 'section-head' }, h('h2', { text: 'Media quality per stream' }), picker), windowForm, body);
  }

  function streamsTable(entries, fabrics) {
    if (!entries.length) return h('p', { class: 'muted', text: 'No stats received.' });
    return h(
      'div',
      { class: 'scroll' },
      h(
        'table',
        { class: 'data' },
        h(
          'thead',
          {},
          h('tr', {}, ['Stream', 'Samples', 'Bitrate avg / worst', 'Loss avg / worst', 'RTT avg / worst', 'Jitter avg / worst', 'Quality (mostly / worst)'].map((t, i) => h('th', { class: i > 0 && i < 6 ? 'num' : '', text: t }))),
        ),
        h(
          'tbody',
          {},
          entries.map(({ s, i }) => {
            const m = s.summary;
            return h(
              'tr',
              {},
              h('td', { class: 'stream-cell' }, h('i', { class: 'dot', style: { background: PALETTE[i % PALETTE.length] } }), streamLabel(s, fabrics), s.ssrc ? h('span', { class: 'muted ssrc', text: ` ssrc ${iso(s.ssrc)}` }) : null),
              h('td', { class: 'num', text: m.samples }),
              h('td', { class: 'num', text: `${fmtNum(m.bitrate.avg)} / ${fmtNum(m.bitrate.worst)} kbps` }),
              h('td', { class: 'num', text: `${fmtPct(m.fractionLoss.avg)} / ${fmtPct(m.fractionLoss.worst)}` }),
              h('td', { class: 'num', text: `${fmtNum(m.rtt.avg)} / ${fmtNum(m.rtt.worst)} ms` }),
              h('td', { class: 'num', text: `${fmtNum(m.jitter.avg, 1)} / ${fmtNum(m.jitter.worst, 1)} ms` }),
              h('td', { class: 'quality-cell' }, qualityBadge(m.quality), m.worstQuality && m.worstQuality !== m.quality ? h('span', { class: 'muted worst', text: ' worst ' }, qualityBadge(m.worstQuality)) : null),
            );
          }),
        ),
      ),
    );
  }

  /** `refresh`: keep the shown page until the answer is there (the Refresh button). */
  async function renderConference(conferenceID, refresh = false, win = currentRoute().window) {
    const seq = ++renderSeq;
    if (!refresh) setView(h('p', { class: 'muted loading' }, 'Loading conference ', h('span', { class: 'mono id id-wide', text: iso(conferenceID) }), '…'));
    let d;
    try {
      // A window: the series of that time at full resolution (the query API's ?from&to).
      d = await api(`/conferences/${encodeURIComponent(conferenceID)}${win ? `?from=${win.from}&to=${win.to}` : ''}`);
    } catch (e) {
      if (seq !== renderSeq) return;
      if (e instanceof ApiError && e.status === 404) {
        setView(h('div', { class: 'card error-card' }, h('h2', { text: 'Conference not found' }), h('p', { class: 'mono long-id', text: iso(conferenceID) }), h('a', { href: '#/', text: '← Back to conferences' })));
        return;
      }
      showError(e);
      return;
    }
    if (seq !== renderSeq) return;
    const t0 = d.firstSeen;
    const s = d.summary;
    const setupDelays = d.fabrics.map((f) => f.setupDelay).filter((v) => v !== null);
    const order = ['excellent', 'good', 'fair', 'poor', 'bad'];
    const worseOf = (pick) =>
      d.streams.reduce((q, x) => {
        const v = pick(x.summary);
        return v && (!q || order.indexOf(v) > order.indexOf(q)) ? v : q;
      }, null);
    const worst = worseOf((m) => m.quality);
    const worstMoment = worseOf((m) => m.worstQuality);
    const avgFeedback = d.feedback.length ? d.feedback.reduce((a, f) => a + f.rating.overall, 0) / d.feedback.length : null;

    const head = h(
      'div',
      { class: 'page-head' },
      h(
        'div',
        { class: 'page-title' },
        h('a', { href: '#/', class: 'back', text: '← Conferences' }),
        h('h1', { class: 'mono long-id', text: iso(d.conferenceID) }),
        h(
          'p',
          { class: 'muted' },
          `${fmtTime(d.firstSeen)} · ${fmtDuration(d.lastSeen - d.firstSeen)} · `,
          s ? h('span', { class: 'badge done', text: `summary ${s.reason === 'terminated' ? 'after all fabrics ended' : 'after inactivity'}` }) : h('span', { class: 'badge live', text: 'active' }),
        ),
      ),
      h('button', {
        type: 'button',
        class: 'secondary',
        text: 'Refresh',
        onclick: (ev) => {
          ev.currentTarget.disabled = true;
          renderConference(conferenceID, true);
        },
      }),
    );

    const stats = h(
      'div',
      { class: 'stats' },
      stat('Participants', String(d.participants.length)),
      stat('Fabrics', String(d.fabrics.length), Object.entries(countBy(d.fabrics.map((f) => STATE_LABEL[f.state] || f.state))).map(([k, v]) => `${v} ${k}`).join(', ')),
      stat('Setup delay', setupDelays.length ? fmtNum(setupDelays.reduce((a, b) => a + b, 0) / setupDelays.length, 0, ' ms') : '–', setupDelays.length ? `max ${fmtNum(setupDelays.reduce((a, b) => Math.max(a, b)), 0, ' ms')}` : ''),
      stat('Errors', String(d.errors.length)),
      stat('Quality', qualityBadge(s ? s.quality : worst), worstMoment ? `worst stream · at worst: ${worstMoment}` : 'worst stream'),
      stat('Feedback', avgFeedback === null ? '–' : `${fmtNum(avgFeedback, 1)} / 5`, d.feedback.length ? `${d.feedback.length} rating${d.feedback.length > 1 ? 's' : ''}` : ''),
    );

    const participants = section(
      'Participants',
      d.participants.length
        ? h(
            'table',
            { class: 'data compact' },
            h('thead', {}, h('tr', {}, ['User', 'First seen', 'Last seen'].map((t) => h('th', { text: t })))),
            h('tbody', {}, d.participants.map((p) => h('tr', {}, h('td', {}, idText(p.userID)), h('td', { class: 'nowrap', text: fmtClock(p.firstSeen) }), h('td', { class: 'nowrap', text: fmtClock(p.lastSeen) })))),
          )
        : h('p', { class: 'muted', text: 'No participants.' }),
    );

    const fabricsById = new Map(d.fabrics.map((f) => [`${f.sid}\u0000${f.fabricID}`, f]));
    const span = niceSpan((d.lastSeen - t0) / 1000);
    const windowForm = windowControl(conferenceID, d, t0, win);
    const chartsSection = d.streams.length
      ? mediaSection(d, t0, fabricsById, span, windowForm)
      : section('Media quality per stream', windowForm, h('p', { class: 'muted', text: win ? 'No stats in this time window.' : 'No stats were received for this conference.' }));

    const errors = d.errors.length
      ? section(
          `Errors (${d.errors.length})`,
          h(
            'table',
            { class: 'data compact' },
            h('thead', {}, h('tr', {}, ['Time', 'User', 'Function', 'Category', 'Message'].map((t) => h('th', { text: t })))),
            h(
              'tbody',
              {},
              d.errors.map((e) =>
                h(
                  'tr',
                  {},
                  h('td', { class: 'mono nowrap', text: fmtClock(e.t) }),
                  h('td', {}, idText(e.userID)),
                  h('td', { class: 'mono' }, idText(e.fn)),
                  h('td', {}, idText(e.category)),
                  h('td', { class: 'wrap' }, e.name ? [idText(e.name), ': '] : null, longText(e.message)),
                ),
              ),
            ),
          ),
        )
      : null;

    const feedback = d.feedback.length
      ? section(
          'User feedback',
          h(
            'ul',
            { class: 'feedback' },
            d.feedback.map((f) =>
              h(
                'li',
                {},
                h('span', { class: 'stars', title: `${stars(f.rating.overall)} of 5`, text: '★'.repeat(stars(f.rating.overall)) + '☆'.repeat(5 - stars(f.rating.overall)) }),
                h('strong', {}, idText(f.userID)),
                h('span', { class: 'comment' }, f.comment ? longText(f.comment) : null),
                h('span', { class: 'muted nowrap', text: fmtClock(f.t) }),
              ),
            ),
          ),
        )
      : null;

    const custom = d.customEvents.length
      ? section(
          'Custom events',
          h(
            'table',
            { class: 'data compact' },
            h('thead', {}, h('tr', {}, ['Time', 'User', 'Name', 'Data'].map((t) => h('th', { text: t })))),
            h(
              'tbody',
              {},
              d.customEvents.map((e) =>
                h('tr', {}, h('td', { class: 'mono nowrap', text: fmtClock(e.t) }), h('td', {}, idText(e.userID)), h('td', {}, idText(e.name)), h('td', { class: 'wrap mono' }, e.data ? longText(JSON.stringify(e.data)) : '')),
              ),
            ),
          ),
        )
      : null;

    setView(head, stats, timeline(d), chartsSection, h('div', { class: 'two-col' }, participants, feedback), errors, custom);
  }

  /** A rating as a whole number of stars, 0..5 (the collector validates it; a bad one must not throw). */
  function stars(n) {
    return Math.min(5, Math.max(0, Math.round(Number(n)) || 0));
  }

  function countBy(xs) {
    const out = Object.create(null);
    for (const x of xs) out[x] = (out[x] || 0) + 1;
    return out;
  }

  // ------------------------------------------------------------------ routing

  /** `#/conference/<id>[?from=<ms>&to=<ms>]` (the ID is percent-encoded, so a bare `?` starts the window). */
  function currentRoute() {
    const m = /^#\/conference\/([^?]+)(?:\?from=(\d+)&to=(\d+))?$/.exec(location.hash);
    if (m) {
      try {
        const win = m[2] && Number(m[3]) > Number(m[2]) ? { from: Number(m[2]), to: Number(m[3]) } : null;
        return { name: 'conference', id: decodeURIComponent(m[1]), window: win };
      } catch {
        return { name: 'list' };
      }
    }
    return { name: 'list' };
  }

  function route() {
    clearTimeout(listTimer);
    updateSession();
    if (!credentials()) {
      renderLogin();
      return;
    }
    const r = currentRoute();
    if (r.name === 'conference') renderConference(r.id, false, r.window);
    else renderList();
  }

  document.getElementById('logout').addEventListener('click', () => {
    sessionStorage.removeItem(STORAGE_KEY);
    location.hash = '#/';
    route();
  });
  window.addEventListener('hashchange', route);
  route();
})();
