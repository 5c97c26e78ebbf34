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
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(path, c = credentials()) {
    if (!c) throw new ApiError(401, 'unauthorized', 'Sign in first.');
    const res = await fetch(`/v1/apps/${encodeURIComponent(c.appID)}${path}`, {
      headers: { Authorization: authHeader(c), Accept: 'application/json' },
      cache: 'no-store',
    });
    let body = null;
    try {
      body = await res.json();
    } catch {
      // not JSON
    }
    if (!res.ok) {
      throw new ApiError(res.status, body && body.error, (body && body.message) || `HTTP ${res.status}`);
    }
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
      renderLogin('Your credentials were refused. Sign in again.');
      return;
    }
    setView(
      h('div', { class: 'card error-card' }, h('h2', { text: 'Something went wrong' }), h('p', { text: e.message || String(e) }), h('a', { href: '#/', text: '← Back to conferences' })),
    );
  }

  function updateSession() {
    const c = credentials();
    sessionNav.hidden = !c;
    sessionApp.textContent = c ? c.appID : '';
  }

  // ------------------------------------------------------------------ login

  function renderLogin(message) {
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
            updateSession();
            if (location.hash === '' || location.hash === '#/' || location.hash === '#/login') route();
            else route();
          } catch (e) {
            status.textContent = e instanceof ApiError && e.status === 401 ? 'Unknown app or wrong secret.' : e.message;
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

  async function renderList() {
    const refresh = h('button', { type: 'button', class: 'secondary', text: 'Refresh', onclick: () => renderList() });
    let data;
    try {
      data = await api('/conferences');
    } catch (e) {
      showError(e);
      return;
    }
    const rows = data.conferences.map((c) =>
      h(
        'tr',
        { class: 'clickable', tabindex: '0', onclick: () => go(c.conferenceID), onkeydown: (e) => e.key === 'Enter' && go(c.conferenceID) },
        h('td', {}, h('a', { href: `#/conference/${encodeURIComponent(c.conferenceID)}`, class: 'mono', text: c.conferenceID })),
        h('td', { text: fmtTime(c.firstSeen) }),
        h('td', { text: fmtDuration(c.lastSeen - c.firstSeen) }),
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
    clearTimeout(listTimer);
    listTimer = setTimeout(() => {
      if (currentRoute().name === 'list') renderList();
    }, 15000);
  }

  function go(conferenceID) {
    location.hash = `#/conference/${encodeURIComponent(conferenceID)}`;
  }

  // ------------------------------------------------------------------ conference detail

  const PALETTE = ['#2563eb', '#db2777', '#059669', '#d97706', '#7c3aed', '#0891b2', '#dc2626', '#65a30d', '#9333ea', '#0f766e'];

  /** "alice → bob · audio (sent)": who sends to whom, and from whose side the stats are. */
  function streamLabel(s, fabrics) {
    const f = fabrics.get(`${s.sid}\u0000${s.fabricID}`);
    const local = (f && f.localUserID) || '?';
    const remote = (f && f.remoteUserID) || '?';
    const media = s.mediaType || 'media';
    if (s.statsType === 'outbound-rtp') return `${s.userID || local} → ${remote} · ${media} (sent)`;
    if (s.statsType === 'inbound-rtp') return `${s.userID || remote} → ${local} · ${media} (received)`;
    return `${s.userID || local} · ${media} · ${s.key}`;
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
    if (!data) return '';
    return Object.entries(data)
      .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`)
      .join(', ');
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
            title: `${fmtClock(e.t)} ${e.event}${e.data ? ` (${describeData(e.data)})` : ''}`,
            style: { left: pos(e.t) },
            text: own(EVENT_ICON, e.event) || '•',
          }),
        );
      }
      for (const err of d.errors.filter((x) => x.fabricID === f.fabricID && x.sid === f.sid)) {
        bar.append(h('div', { class: 'marker ev-error', title: `${fmtClock(err.t)} error in ${err.fn}: ${err.message}`, style: { left: pos(err.t) }, text: '!' }));
      }
      const who = f.localUserID ? `${f.localUserID} → ${f.remoteUserID}` : f.fabricID;
      return h(
        'div',
        { class: 'lane' },
        h(
          'div',
          { class: 'lane-label' },
          h('div', { class: 'lane-title', text: who }),
          h(
            'div',
            { class: 'lane-meta' },
            stateBadge(f.state),
            h('span', { class: 'muted', text: ` ${f.fabricUsage || ''}${f.remoteEndpointType ? ` · ${f.remoteEndpointType}` : ''}` }),
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
    const list = h(
      'details',
      { class: 'events' },
      h('summary', { text: `All events (${rows.length})` }),
      h(
        'table',
        { class: 'data compact' },
        h('thead', {}, h('tr', {}, ['Time', 'User', 'Fabric', 'Event', 'Details'].map((t) => h('th', { text: t })))),
        h(
          'tbody',
          {},
          rows.map((r) =>
            h('tr', {}, h('td', { class: 'mono', text: `+${fmtOffset((r.t - t0) / 1000)}` }), h('td', { text: r.who }), h('td', { class: 'mono', text: r.fabric }), h('td', {}, h('span', { class: `chip ${r.cls}`, text: r.what })), h('td', { class: 'wrap', text: r.detail })),
          ),
        ),
      ),
    );

    return section('Fabric timeline', d.fabrics.length ? h('div', { class: 'timeline' }, lanes, h('div', { class: 'lane' }, h('div', { class: 'lane-label' }), ticks)) : h('p', { class: 'muted', text: 'No fabrics.' }), legend, list);
  }

  function chartCard(title, unit, streams, pick, t0, fabrics, span) {
    const canvas = h('canvas', { 'aria-label': `${title} per stream`, role: 'img' });
    const card = h('div', { class: 'chart-card' }, h('h3', {}, title, h('span', { class: 'muted unit', text: unit ? ` (${unit})` : '' })), h('div', { class: 'chart-box' }, canvas));
    const datasets = streams
      .map((s, i) => ({
        label: streamLabel(s, fabrics),
        data: s.series.filter((p) => pick(p) !== null && pick(p) !== undefined).map((p) => ({ x: (p.t - t0) / 1000, y: pick(p) })),
        borderColor: PALETTE[i % PALETTE.length],
        backgroundColor: PALETTE[i % PALETTE.length],
        borderWidth: 2,
        pointRadius: s.series.length > 60 ? 0 : 2,
        tension: 0.25,
        cubicInterpolationMode: 'monotone', // no overshoot or loops between close samples
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
    queueMicrotask(() => {
      charts.push(
        new window.Chart(canvas, {
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
              legend: { position: 'bottom', labels: { boxWidth: 10, boxHeight: 10, font: { size: 11 } } },
              tooltip: { callbacks: { title: (items) => (items[0] ? `+${fmtOffset(items[0].parsed.x)}` : '') } },
            },
          },
        }),
      );
    });
    return card;
  }

  function streamsTable(streams, fabrics) {
    if (!streams.length) return h('p', { class: 'muted', text: 'No stats received.' });
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
          streams.map((s, i) => {
            const m = s.summary;
            return h(
              'tr',
              {},
              h('td', {}, h('i', { class: 'dot', style: { background: PALETTE[i % PALETTE.length] } }), streamLabel(s, fabrics), s.ssrc ? h('span', { class: 'muted ssrc', text: ` ssrc ${s.ssrc}` }) : null),
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

  async function renderConference(conferenceID) {
    let d;
    try {
      d = await api(`/conferences/${encodeURIComponent(conferenceID)}`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        setView(h('div', { class: 'card error-card' }, h('h2', { text: 'Conference not found' }), h('p', { class: 'mono', text: conferenceID }), h('a', { href: '#/', text: '← Back to conferences' })));
        return;
      }
      showError(e);
      return;
    }
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
        {},
        h('a', { href: '#/', class: 'back', text: '← Conferences' }),
        h('h1', { class: 'mono', text: d.conferenceID }),
        h(
          'p',
          { class: 'muted' },
          `${fmtTime(d.firstSeen)} · ${fmtDuration(d.lastSeen - d.firstSeen)} · `,
          s ? h('span', { class: 'badge done', text: `summary ${s.reason === 'terminated' ? 'after all fabrics ended' : 'after inactivity'}` }) : h('span', { class: 'badge live', text: 'active' }),
        ),
      ),
      h('button', { type: 'button', class: 'secondary', text: 'Refresh', onclick: () => renderConference(conferenceID) }),
    );

    const stats = h(
      'div',
      { class: 'stats' },
      stat('Participants', String(d.participants.length)),
      stat('Fabrics', String(d.fabrics.length), Object.entries(countBy(d.fabrics.map((f) => STATE_LABEL[f.state] || f.state))).map(([k, v]) => `${v} ${k}`).join(', ')),
      stat('Setup delay', setupDelays.length ? fmtNum(setupDelays.reduce((a, b) => a + b, 0) / setupDelays.length, 0, ' ms') : '–', setupDelays.length ? `max ${fmtNum(Math.max(...setupDelays), 0, ' ms')}` : ''),
      stat('Errors', String(d.errors.length)),
      stat('Quality', qualityBadge(s ? s.quality : worst), worstMoment ? `worst stream · at worst: ${worstMoment}` : 'worst stream'),
      stat('Feedback', avgFeedback === null ? '–' : `${fmtNum(avgFeedback, 1)} / 5`, d.feedback.length ? `${d.feedback.length} rating${d.feedback.length > 1 ? 's' : ''}` : ''),
    );

    const participants = section(
      'Participants',
      h(
        'table',
        { class: 'data compact' },
        h('thead', {}, h('tr', {}, ['User', 'First seen', 'Last seen'].map((t) => h('th', { text: t })))),
        h('tbody', {}, d.participants.map((p) => h('tr', {}, h('td', { text: p.userID }), h('td', { text: fmtClock(p.firstSeen) }), h('td', { text: fmtClock(p.lastSeen) })))),
      ),
    );

    const fabricsById = new Map(d.fabrics.map((f) => [`${f.sid}\u0000${f.fabricID}`, f]));
    const span = niceSpan((d.lastSeen - t0) / 1000);
    const chartsSection = d.streams.length
      ? section(
          'Media quality per stream',
          h(
            'div',
            { class: 'chart-grid' },
            chartCard('Bitrate', 'kbps', d.streams, (p) => p.bitrate, t0, fabricsById, span),
            chartCard('Packet loss', '%', d.streams, (p) => (p.fractionLoss === null ? null : Math.round(p.fractionLoss * 1000) / 10), t0, fabricsById, span),
            chartCard('Round-trip time', 'ms', d.streams, (p) => p.rtt, t0, fabricsById, span),
            chartCard('Jitter', 'ms', d.streams, (p) => p.jitter, t0, fabricsById, span),
          ),
          streamsTable(d.streams, fabricsById),
        )
      : section('Media quality per stream', h('p', { class: 'muted', text: 'No stats were received for this conference.' }));

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
                h('tr', {}, h('td', { class: 'mono', text: fmtClock(e.t) }), h('td', { text: e.userID }), h('td', { class: 'mono', text: e.fn }), h('td', { text: e.category }), h('td', { class: 'wrap', text: e.name ? `${e.name}: ${e.message}` : e.message })),
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
                h('span', { class: 'stars', title: `${f.rating.overall} of 5`, text: '★'.repeat(f.rating.overall) + '☆'.repeat(5 - f.rating.overall) }),
                h('strong', { text: f.userID }),
                f.comment ? h('span', { class: 'comment', text: `“${f.comment}”` }) : null,
                h('span', { class: 'muted', text: fmtClock(f.t) }),
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
            h('tbody', {}, d.customEvents.map((e) => h('tr', {}, h('td', { class: 'mono', text: fmtClock(e.t) }), h('td', { text: e.userID }), h('td', { text: e.name }), h('td', { class: 'wrap mono', text: e.data ? JSON.stringify(e.data) : '' })))),
          ),
        )
      : null;

    setView(head, stats, timeline(d), chartsSection, h('div', { class: 'two-col' }, participants, feedback), errors, custom);
  }

  function countBy(xs) {
    const out = Object.create(null);
    for (const x of xs) out[x] = (out[x] || 0) + 1;
    return out;
  }

  // ------------------------------------------------------------------ routing

  function currentRoute() {
    const m = /^#\/conference\/(.+)$/.exec(location.hash);
    if (m) {
      try {
        return { name: 'conference', id: decodeURIComponent(m[1]) };
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
    if (r.name === 'conference') renderConference(r.id);
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
