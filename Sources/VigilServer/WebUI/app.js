// Vigil web UI: reads the REST API under /api/v1 and renders it. Every value from the server reaches the page as
// a text node or an attribute, never as HTML: log templates and alert summaries are input from the network.
'use strict';

const REFRESH_MS = 5000;
const state = {
  generation: 0, // bumps on every render, so a slow answer for an old view is dropped
  expanded: new Set(), // anomaly ids whose chart is open
  asked: null, // the last question and its reply, kept across renders
  approver: { name: '', token: '' }, // what the person typed into an approval form, kept across renders (never stored)
  decided: null, // the answer to the last approval or rejection
};

// MARK: - DOM helpers

/** Creates an element; `attrs` may hold `class`, `onclick` and plain attributes; children are nodes or text. */
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'onclick') node.addEventListener('click', value);
    else if (key === 'onchange') node.addEventListener('change', value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

function svg(tag, attrs) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
  return node;
}

function table(headers, rows, empty) {
  if (rows.length === 0) return el('div', { class: 'empty' }, empty);
  const head = el('tr', {}, headers.map(([title, cls]) => el('th', { class: cls }, title)));
  return el('table', {}, el('thead', {}, head), el('tbody', {}, rows));
}

// MARK: - Formatting

/** "2026-11-23 14:31:45" in UTC, the zone incidents and alerts are written in. */
function when(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

function ago(iso) {
  const seconds = (Date.now() - Date.parse(iso)) / 1000;
  if (!Number.isFinite(seconds)) return '';
  if (seconds < 0) return 'in the future';
  if (seconds < 90) return `${Math.round(seconds)} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} days ago`;
}

function timeCell(iso) {
  return el('td', { class: 'time', title: ago(iso) }, when(iso));
}

function number(value) {
  if (value === undefined || value === null || value === '') return '';
  const x = Number(value);
  if (!Number.isFinite(x)) return String(value);
  if (x !== 0 && Math.abs(x) < 0.001) return x.toExponential(2);
  // Millions and up with an SI prefix and four significant digits: a memory of 139476992 reads 139.5 M.
  for (const [size, prefix] of [[1e12, 'T'], [1e9, 'G'], [1e6, 'M']]) {
    if (Math.abs(x) >= size) return `${Number((x / size).toPrecision(4)).toLocaleString('en-US')} ${prefix}`;
  }
  return x.toLocaleString('en-US', { maximumFractionDigits: Math.abs(x) >= 100 ? 1 : 3 });
}

function percent(ratio) {
  return Number.isFinite(ratio) ? `${Math.round(ratio * 100)} %` : '';
}

function seconds(value) {
  if (!Number.isFinite(value)) return '';
  return value < 1 ? `${number(value * 1000)} ms` : `${number(value)} s`;
}

function bytes(value) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let x = Number(value);
  let unit = 0;
  while (x >= 1024 && unit < units.length - 1) {
    x /= 1024;
    unit += 1;
  }
  return `${number(x)} ${units[unit]}`;
}

function pill(text, kind) {
  return el('span', { class: `pill ${kind || text}` }, text);
}

function bar(ratio) {
  const fill = el('span');
  fill.style.width = `${Math.max(0, Math.min(1, ratio)) * 100}%`;
  return el('span', { class: 'bar' }, fill);
}

// MARK: - API and routing

class APIError extends Error {}

async function api(path) {
  let response;
  try {
    response = await fetch(`/api/v1/${path}`, { headers: { Accept: 'application/json' } });
  } catch (error) {
    throw new APIError(`cannot reach vigil serve (${error.message})`);
  }
  const text = await response.text();
  if (!response.ok) {
    let message = text.trim();
    try {
      message = JSON.parse(text).error.message || message;
    } catch (_) {
      // not JSON: show the text as it came
    }
    throw new APIError(`/api/v1/${path.split('?')[0]} answered ${response.status}: ${message.slice(0, 300)}`);
  }
  return JSON.parse(text);
}

/** The hash `#/incidents/ID?status=open` as { name, argument, params }. */
function currentRoute() {
  const hash = location.hash.replace(/^#\/?/, '');
  const [path, query] = hash.split('?');
  const segments = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { name: segments[0] || 'incidents', argument: segments[1], params: new URLSearchParams(query || '') };
}

function go(name, argument, params) {
  let hash = `#/${name}`;
  if (argument) hash += `/${encodeURIComponent(argument)}`;
  const query = params ? new URLSearchParams(Object.entries(params).filter(([, v]) => v)).toString() : '';
  if (query) hash += `?${query}`;
  location.hash = hash;
}

const views = {
  incidents: (route) => (route.argument ? incidentView(route.argument) : incidentsView(route.params)),
  anomalies: (route) => anomaliesView(route.params),
  alerts: (route) => alertsView(route.params),
  templates: (route) => templatesView(route.params),
  changes: (route) => changesView(route.params),
  topology: (route) => topologyView(route.params),
  health: () => healthView(),
  ask: (route) => askView(route.params),
  remediations: (route) => remediationsView(route.params),
};

async function render() {
  const generation = ++state.generation;
  const route = currentRoute();
  const view = views[route.name];
  for (const link of document.querySelectorAll('#nav a')) {
    link.classList.toggle('active', link.dataset.view === route.name);
  }
  const errorBox = document.getElementById('error');
  let content;
  try {
    content = view
      ? await view(route)
      : el('div', { class: 'empty' }, `There is no page "${route.name}". `, el('a', { href: '#/incidents' }, 'Incidents'));
    errorBox.hidden = true;
  } catch (error) {
    if (generation !== state.generation) return;
    errorBox.textContent = error instanceof APIError ? error.message : `The page failed: ${error.message}`;
    errorBox.hidden = false;
    return;
  }
  if (generation !== state.generation) return;
  const main = document.getElementById('view');
  main.replaceChildren(content);
  main.dataset.view = route.name;
  main.dataset.loaded = String(generation);
}

async function refreshStatus() {
  const status = document.getElementById('status');
  try {
    const stats = await api('stats');
    const open = stats.incidents.open;
    const parts = [stats.ready ? 'ready' : 'starting'];
    parts.push(`${number(stats.logs.processed)} log lines`, `${number(stats.samples.processed)} samples`);
    if (stats.spans.processed > 0) parts.push(`${number(stats.spans.processed)} spans`);
    status.textContent = parts.join(' · ');
    status.classList.toggle('down', !stats.ready);
    const link = document.querySelector('#nav a[data-view="incidents"]');
    link.replaceChildren('Incidents', open > 0 ? el('span', { class: 'count', id: 'open-count' }, open) : '');
  } catch (error) {
    status.textContent = error.message;
    status.classList.add('down');
  }
}

// MARK: - Incidents

async function incidentsView(params) {
  const status = params.get('status') || '';
  const [incidents, stats] = await Promise.all([
    api(`incidents?limit=500${status ? `&status=${encodeURIComponent(status)}` : ''}`),
    api('stats'),
  ]);
  const filter = el(
    'select',
    { id: 'status-filter', onchange: (event) => go('incidents', null, { status: event.target.value }) },
    ['', 'open', 'mitigated', 'resolved'].map((value) =>
      el('option', { value, selected: value === status }, value || 'all')
    )
  );
  const rows = incidents.map((incident) =>
    el(
      'tr',
      { class: 'clickable incident', 'data-id': incident.id, onclick: () => go('incidents', incident.id) },
      el('td', {}, pill(incident.status)),
      timeCell(incident.opened),
      el('td', { class: 'root-cause' }, incident.rootCause ? el('a', { href: `#/incidents/${encodeURIComponent(incident.id)}` }, incident.rootCause) : el('span', { class: 'muted' }, 'unknown')),
      el('td', { class: 'num' }, incident.confidence !== undefined ? percent(incident.confidence) : ''),
      el('td', {}, incident.services.join(', ')),
      el('td', { class: 'num' }, incident.symptomCount),
      el('td', {}, incident.narrative)
    )
  );
  return el(
    'section',
    {},
    el('h1', {}, 'Incidents'),
    el('p', { class: 'muted', id: 'grouping' }, stats.incidents.summary),
    el('div', { class: 'toolbar' }, el('label', { for: 'status-filter' }, 'Status'), filter),
    table(
      [['Status'], ['Opened (UTC)'], ['Root cause'], ['Confidence', 'num'], ['Services'], ['Symptoms', 'num'], ['Summary']],
      rows,
      'No incidents. Vigil opens one when anomalies, alerts and changes on related services come together in time: ' +
        'send Alertmanager webhooks to /api/v1/alerts/alertmanager, or metrics, logs and traces to the ingest endpoints.'
    )
  );
}

async function incidentView(id) {
  const [incident, runs] = await Promise.all([api(`incidents/${encodeURIComponent(id)}`), api('remediations?limit=1000')]);
  const remediation = runs.filter((run) => run.incident === incident.id);
  const top = incident.rootCauses[0];
  const cards = [
    el(
      'div',
      { class: 'card', id: 'root-cause' },
      el('h3', {}, 'Root cause'),
      top
        ? [el('div', { class: 'big' }, top.service), el('div', { class: 'muted' }, `confidence ${percent(top.confidence)}`),
           el('ul', {}, top.reasons.map((reason) => el('li', {}, reason)))]
        : el('div', { class: 'muted' }, 'not ranked yet')
    ),
  ];
  if (incident.trigger) {
    const change = incident.trigger;
    cards.push(
      el(
        'div',
        { class: 'card', id: 'trigger' },
        el('h3', {}, 'Trigger'),
        el('div', { class: 'big' }, `${change.kind}${change.version ? ` ${change.version}` : ''} of ${change.service}`),
        el('div', { class: 'muted' }, `${when(change.time)} UTC`),
        change.description ? el('div', {}, change.description) : null
      )
    );
  }
  if (incident.recommendation) {
    cards.push(
      el(
        'div',
        { class: 'card', id: 'recommendation' },
        el('h3', {}, 'Try first'),
        el('div', { class: 'big' }, incident.recommendation.action),
        el('div', {}, incident.recommendation.reason)
      )
    );
  }
  const chain = el(
    'div',
    { class: 'chain', id: 'impact-chain' },
    incident.impactChain.map((service, index) => [
      index > 0 ? el('span', { class: 'arrow' }, '→') : null,
      el('span', { class: 'node' }, service),
    ])
  );
  const candidates = incident.rootCauses.map((candidate, index) =>
    el(
      'tr',
      { class: 'candidate' },
      el('td', { class: 'num' }, index + 1),
      el('td', {}, candidate.service),
      el('td', { class: 'confidence' }, bar(candidate.confidence), percent(candidate.confidence)),
      el('td', { class: 'num' }, number(candidate.score)),
      el('td', {}, candidate.reasons.join('; '))
    )
  );
  const timeline = incident.timeline.map((moment) =>
    el('tr', { class: 'moment' }, timeCell(moment.time), el('td', {}, moment.service), el('td', {}, moment.what))
  );
  const members = incident.members.map((member) =>
    el(
      'tr',
      { class: 'member' },
      el('td', {}, member.kind.replaceAll('_', ' ')),
      el('td', {}, member.service),
      el('td', { class: 'mono' }, member.subject),
      timeCell(member.firstSeen),
      el('td', { class: 'num' }, member.count),
      el('td', { class: 'num' }, number(member.score)),
      el('td', {}, member.summary),
      el('td', { class: 'muted' }, member.joinedBecause || 'opened the incident')
    )
  );
  return el(
    'section',
    {},
    el('div', { class: 'toolbar' }, el('a', { href: '#/incidents' }, '← all incidents')),
    el('h1', {}, `Incident ${incident.id} `, pill(incident.status)),
    el('p', { class: 'narrative', id: 'narrative' }, incident.narrative),
    el('div', { class: 'cards' }, cards),
    el(
      'p',
      {},
      el(
        'a',
        { id: 'ask-about', href: `#/ask?q=${encodeURIComponent(`why is ${incident.services[incident.services.length - 1] || 'it'} failing?`)}` },
        'Ask about this incident →'
      )
    ),
    remediation.length > 0
      ? [el('h2', {}, 'Remediation'), el('ul', { id: 'incident-runs' }, remediation.map((run) =>
          el('li', {}, pill(run.state.replaceAll('_', ' '), run.state), ` ${run.runbook} on ${run.service} (${run.level}, ${run.risk} risk) `,
            el('a', { href: `#/remediations?run=${encodeURIComponent(run.id)}` }, 'details →'))))]
      : null,
    el('h2', {}, 'Impact chain'),
    chain,
    el('h2', {}, 'Root-cause candidates'),
    table([['#', 'num'], ['Service'], ['Confidence'], ['Score', 'num'], ['Why']], candidates, 'No candidates.'),
    el('h2', {}, 'Timeline (UTC)'),
    el('div', { id: 'timeline' }, table([['Time'], ['Service'], ['What happened']], timeline, 'No timeline yet.')),
    el('h2', {}, `Symptoms (${incident.symptomCount} occurrences)`),
    table(
      [['Kind'], ['Service'], ['Subject'], ['First seen'], ['Count', 'num'], ['Score', 'num'], ['Evidence'], ['Grouped because']],
      members,
      'No symptoms.'
    )
  );
}

// MARK: - Anomalies

async function anomaliesView(params) {
  const service = params.get('service') || '';
  const anomalies = await api(`anomalies?limit=300${service ? `&service=${encodeURIComponent(service)}` : ''}`);
  const rows = [];
  for (const anomaly of anomalies) {
    const evidence = anomaly.evidence || {};
    // A band, or the one edge a held change is still beyond.
    const band =
      evidence.lower !== undefined && evidence.upper !== undefined
        ? ` (band ${number(evidence.lower)} … ${number(evidence.upper)})`
        : evidence.upper !== undefined
          ? ` (band up to ${number(evidence.upper)})`
          : evidence.lower !== undefined
            ? ` (band down to ${number(evidence.lower)})`
            : '';
    const charted = anomaly.kind === 'metric_deviation' || anomaly.kind === 'trend_exhaustion';
    rows.push(
      el(
        'tr',
        {
          class: charted ? 'clickable anomaly' : 'anomaly',
          title: charted ? 'Click to show the series around this point' : null,
          onclick: charted
            ? () => {
                if (state.expanded.has(anomaly.id)) state.expanded.delete(anomaly.id);
                else state.expanded.add(anomaly.id);
                render();
              }
            : null,
        },
        timeCell(anomaly.time),
        el('td', {}, el('a', { href: `#/anomalies?service=${encodeURIComponent(anomaly.service)}` }, anomaly.service)),
        el('td', {}, anomaly.kind.replaceAll('_', ' ')),
        el('td', { class: 'mono' }, anomaly.subject),
        el('td', { class: 'num' }, number(anomaly.score)),
        el('td', { class: 'num' }, number(evidence.observed)),
        el('td', {}, evidence.expected !== undefined ? `${number(evidence.expected)}${band}` : ''),
        el('td', {}, evidence.summary)
      )
    );
    if (charted && state.expanded.has(anomaly.id)) {
      rows.push(el('tr', { class: 'chart-row' }, el('td', { colspan: 8 }, await seriesChart(anomaly))));
    }
  }
  const input = el('input', {
    id: 'service-filter',
    type: 'search',
    placeholder: 'all services',
    value: service,
    onchange: (event) => go('anomalies', null, { service: event.target.value.trim() }),
  });
  return el(
    'section',
    {},
    el('h1', {}, 'Anomalies'),
    el('div', { class: 'toolbar' }, el('label', { for: 'service-filter' }, 'Service'), input),
    table(
      [['Time'], ['Service'], ['Kind'], ['Subject'], ['Score', 'num'], ['Observed', 'num'], ['Expected'], ['Evidence']],
      rows,
      'No anomalies yet. Detectors warm up on each series first (150 points) and then alert only when a value, or the average of the latest ones, is far rarer than the series\' own history.'
    )
  );
}

/** A line chart of an anomaly's series from two hours before to half an hour after it, the point marked. */
async function seriesChart(anomaly) {
  const at = Date.parse(anomaly.time) / 1000;
  const answer = await api(
    `series?series=${encodeURIComponent(anomaly.subject)}&from=${Math.floor(at - 7200)}&to=${Math.ceil(at + 1800)}`
  );
  const points = answer.points.filter(([t, v]) => Number.isFinite(t) && Number.isFinite(Number(v)));
  if (points.length < 2) return el('div', { class: 'muted' }, 'Too few stored points around this anomaly to draw.');
  // Drawn at a typical table width and scaled evenly, so labels keep their shape.
  const width = 1200;
  const height = 220;
  const pad = { left: 56, right: 10, top: 10, bottom: 22 };
  const times = points.map(([t]) => t);
  const values = points.map(([, v]) => Number(v));
  const evidence = anomaly.evidence || {};
  const extra = [evidence.lower, evidence.upper, evidence.expected].filter(Number.isFinite);
  const low = Math.min(...values, ...extra);
  const high = Math.max(...values, ...extra);
  const t0 = Math.min(...times, at);
  const t1 = Math.max(...times, at);
  const x = (t) => pad.left + ((t - t0) / Math.max(t1 - t0, 1)) * (width - pad.left - pad.right);
  const y = (v) => pad.top + (1 - (v - low) / Math.max(high - low, 1e-12)) * (height - pad.top - pad.bottom);
  const chart = svg('svg', { class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img' });
  const title = svg('title');
  title.textContent = `${anomaly.subject} around ${when(anomaly.time)} UTC`;
  chart.append(title);
  if (Number.isFinite(evidence.lower) && Number.isFinite(evidence.upper)) {
    chart.append(svg('rect', { class: 'band', x: pad.left, width: width - pad.left - pad.right,
      y: y(evidence.upper), height: Math.max(1, y(evidence.lower) - y(evidence.upper)) }));
  }
  if (Number.isFinite(evidence.expected)) {
    chart.append(svg('line', { class: 'expected', x1: pad.left, x2: width - pad.right, y1: y(evidence.expected), y2: y(evidence.expected) }));
  }
  chart.append(svg('polyline', { class: 'line', points: points.map(([t, v]) => `${x(t).toFixed(1)},${y(Number(v)).toFixed(1)}`).join(' ') }));
  chart.append(svg('line', { class: 'marker', x1: x(at), x2: x(at), y1: pad.top, y2: height - pad.bottom }));
  for (const [value, label] of [[high, number(high)], [low, number(low)]]) {
    const text = svg('text', { x: 4, y: y(value) + 4 });
    text.textContent = label;
    chart.append(text);
  }
  for (const [t, anchor] of [[t0, 'start'], [t1, 'end']]) {
    const text = svg('text', { x: x(t), y: height - 6, 'text-anchor': anchor });
    text.textContent = when(new Date(t * 1000).toISOString()).slice(11, 16);
    chart.append(text);
  }
  return chart;
}

// MARK: - Templates, changes, topology, health

async function templatesView(params) {
  const service = params.get('service') || '';
  const errorsOnly = params.get('errors') === '1';
  let templates = await api(`templates?limit=1000${service ? `&service=${encodeURIComponent(service)}` : ''}`);
  if (errorsOnly) templates = templates.filter((template) => template.errorCount > 0);
  const rows = templates.map((template) =>
    el(
      'tr',
      { class: 'template' },
      el('td', {}, template.service),
      el('td', { class: 'muted' }, template.source),
      el('td', {}, pill(template.severity, template.severity)),
      el('td', { class: 'num' }, number(template.count)),
      el('td', { class: 'num' }, number(template.errorCount)),
      timeCell(template.firstSeen),
      timeCell(template.lastSeen),
      el('td', { class: 'mono' }, template.text)
    )
  );
  const input = el('input', {
    id: 'service-filter',
    type: 'search',
    placeholder: 'all services',
    value: service,
    onchange: (event) => go('templates', null, { service: event.target.value.trim(), errors: errorsOnly ? '1' : '' }),
  });
  const errors = el('input', {
    id: 'errors-only',
    type: 'checkbox',
    checked: errorsOnly,
    onchange: (event) => go('templates', null, { service, errors: event.target.checked ? '1' : '' }),
  });
  return el(
    'section',
    {},
    el('h1', {}, 'Log templates'),
    el(
      'div',
      { class: 'toolbar' },
      el('label', { for: 'service-filter' }, 'Service'),
      input,
      errors,
      el('label', { for: 'errors-only' }, 'with errors only')
    ),
    table(
      [['Service'], ['Source'], ['Severity'], ['Lines', 'num'], ['Errors', 'num'], ['First seen'], ['Last seen'], ['Template']],
      rows,
      'No templates yet. Send logs (Loki push, OTLP, syslog, --tail) and each line is mined into its template.'
    )
  );
}

/** Alertmanager's alerts beside Vigil's own findings: each with the incident it joined, one click away. */
async function alertsView(params) {
  const status = params.get('status') || '';
  const alerts = await api(`alerts?limit=500${status ? `&status=${encodeURIComponent(status)}` : ''}`);
  const filter = el(
    'select',
    { id: 'alert-status', onchange: (event) => go('alerts', null, { status: event.target.value }) },
    ['', 'firing', 'resolved'].map((value) => el('option', { value, selected: value === status }, value || 'all'))
  );
  const rows = alerts.map((alert) =>
    el(
      'tr',
      { class: 'alert', 'data-fingerprint': alert.fingerprint },
      el('td', {}, pill(alert.status, alert.status === 'firing' ? 'open' : 'resolved')),
      timeCell(alert.startsAt),
      el('td', {}, alert.name),
      el('td', {}, alert.service),
      el('td', {}, (alert.labels || {}).severity || ''),
      el('td', {}, alert.summary || ''),
      el('td', { class: 'incident-link' }, alert.incident
        ? el('a', { href: `#/incidents/${encodeURIComponent(alert.incident)}` }, alert.incident)
        : el('span', { class: 'muted' }, 'none'))
    )
  );
  return el(
    'section',
    {},
    el('h1', {}, 'Alerts'),
    el('div', { class: 'toolbar' }, el('label', { for: 'alert-status' }, 'Status'), filter),
    table(
      [['Status'], ['Started (UTC)'], ['Alert'], ['Service'], ['Severity'], ['Summary'], ['Incident']],
      rows,
      'No alerts. Point an Alertmanager receiver at /api/v1/alerts/alertmanager (webhook_configs, send_resolved: true).'
    )
  );
}

async function changesView(params) {
  const service = params.get('service') || '';
  const changes = await api(`changes?limit=500${service ? `&service=${encodeURIComponent(service)}` : ''}`);
  const rows = changes.map((change) =>
    el(
      'tr',
      { class: 'change' },
      timeCell(change.time),
      el('td', {}, change.service),
      el('td', {}, change.kind),
      el('td', { class: 'mono' }, change.version || ''),
      el('td', {}, change.description || '')
    )
  );
  return el(
    'section',
    {},
    el('h1', {}, 'Changes'),
    table(
      [['Time'], ['Service'], ['Kind'], ['Version'], ['Description']],
      rows,
      'No changes recorded. POST deploys and config changes to /api/v1/changes, or point GitHub and Kubernetes webhooks at /api/v1/changes/github and /api/v1/changes/kubernetes.'
    )
  );
}

/**
 * The service map: callers left of their callees, one column per call depth (the longest chain of calls from a
 * service nothing calls; a cycle is cut where it closes), services in an open incident outlined, calls drawn as
 * wide as their rate and coloured by their error ratio.
 */
// A call only the configuration declares: no span showed it in the range.
function declaredOnly(edge) {
  return !edge.sources.includes('spans');
}

function serviceMap(topology, troubled) {
  const services = [...topology.services].sort();
  const callees = new Map(services.map((service) => [service, []]));
  for (const edge of topology.edges) if (callees.has(edge.caller)) callees.get(edge.caller).push(edge.callee);
  const depth = new Map();
  const onPath = new Set();
  const visit = (service, level) => {
    if (onPath.has(service) || (depth.get(service) ?? -1) >= level) return;
    depth.set(service, level);
    onPath.add(service);
    for (const callee of callees.get(service) || []) visit(callee, level + 1);
    onPath.delete(service);
  };
  const called = new Set(topology.edges.map((edge) => edge.callee));
  for (const service of services) if (!called.has(service)) visit(service, 0);
  for (const service of services) if (!depth.has(service)) visit(service, 0);
  const columns = [];
  for (const service of services) (columns[depth.get(service)] ||= []).push(service);
  // Fewer crossings: each column after the first is ordered by where its callers sit (their mean row).
  const row = new Map();
  columns.forEach((column, level) => {
    if (!column) return;
    if (level > 0) {
      const callers = (service) => topology.edges.filter((edge) => edge.callee === service && row.has(edge.caller));
      const key = new Map(column.map((service) => {
        const rows = callers(service).map((edge) => row.get(edge.caller));
        return [service, rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : Infinity];
      }));
      column.sort((a, b) => key.get(a) - key.get(b) || (a < b ? -1 : 1));
    }
    column.forEach((service, index) => row.set(service, index));
  });
  const box = { width: 170, height: 34, gapX: 80, gapY: 22, pad: 16 };
  const place = new Map();
  columns.forEach((column, level) =>
    (column || []).forEach((service, row) =>
      place.set(service, { x: box.pad + level * (box.width + box.gapX), y: box.pad + row * (box.height + box.gapY) })
    )
  );
  const width = box.pad * 2 + Math.max(1, columns.length) * (box.width + box.gapX) - box.gapX;
  const height = box.pad * 2 + Math.max(1, ...columns.map((column) => (column || []).length)) * (box.height + box.gapY) - box.gapY;
  const map = svg('svg', { id: 'service-map', class: 'service-map', viewBox: `0 0 ${width} ${height}`, width, role: 'img' });
  const title = svg('title');
  title.textContent = `${services.length} services, ${topology.edges.length} calls`;
  map.append(title);
  const defs = svg('defs');
  for (const state of ['', 'degraded', 'failing']) {
    const marker = svg('marker', { id: `arrow${state && '-'}${state}`, viewBox: '0 0 8 8', refX: 8, refY: 4, markerWidth: 7, markerHeight: 7, orient: 'auto' });
    marker.append(svg('path', { class: `arrow ${state}`, d: 'M0,0 L8,4 L0,8 z' }));
    defs.append(marker);
  }
  map.append(defs);
  for (const edge of topology.edges) {
    const from = place.get(edge.caller);
    const to = place.get(edge.callee);
    if (!from || !to) continue;
    const [x1, y1, x2, y2] = [from.x + box.width, from.y + box.height / 2, to.x, to.y + box.height / 2];
    const bend = Math.max(30, Math.abs(x2 - x1) / 2);
    const declared = declaredOnly(edge);
    const state = edge.errorRatio >= 0.05 ? 'failing' : edge.errorRatio >= 0.01 ? 'degraded' : '';
    const link = svg('path', {
      class: `link${state && ' '}${state}${declared ? ' declared' : ''}`, 'data-caller': edge.caller, 'data-callee': edge.callee,
      'marker-end': `url(#arrow${state && '-'}${state})`,
      d: `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`,
      'stroke-width': (1 + Math.min(4, 2 * Math.log10(1 + (edge.callsPerSecond || 0)))).toFixed(2),
    });
    const tip = svg('title');
    tip.textContent = declared
      ? `${edge.caller} → ${edge.callee}: declared in the configuration, no spans in this range`
      : `${edge.caller} → ${edge.callee}: ${number(edge.callsPerSecond)} calls/s, ` +
        `${percent(edge.errorRatio)} errors, p99 ${seconds(edge.latencyP99Seconds)}`;
    link.append(tip);
    map.append(link);
  }
  for (const service of services) {
    const { x, y } = place.get(service);
    const node = svg('g', { class: `node${troubled.has(service) ? ' incident' : ''}`, 'data-service': service, 'data-depth': depth.get(service) });
    node.append(svg('rect', { x, y, width: box.width, height: box.height, rx: 6 }));
    const label = svg('text', { x: x + 10, y: y + box.height / 2 + 4 });
    label.textContent = service.length > 24 ? `${service.slice(0, 23)}…` : service;
    const tip = svg('title');
    tip.textContent = troubled.has(service) ? `${service}: in an open incident` : service;
    node.append(tip, label);
    map.append(node);
  }
  return map;
}

async function topologyView(params) {
  const minutes = Number(params.get('minutes')) || 15;
  const to = Math.floor(Date.now() / 1000);
  const [topology, open] = await Promise.all([
    api(`topology?from=${to - minutes * 60}&to=${to}`),
    api('incidents?status=open&limit=1000'),
  ]);
  const troubled = new Set(open.flatMap((incident) => incident.services));
  const range = el(
    'select',
    { id: 'range', onchange: (event) => go('topology', null, { minutes: event.target.value }) },
    [[15, 'last 15 minutes'], [60, 'last hour'], [360, 'last 6 hours'], [1440, 'last day'], [10080, 'last week']].map(
      ([value, label]) => el('option', { value, selected: value === minutes }, label)
    )
  );
  const declared = topology.edges.filter(declaredOnly).length;
  const rows = topology.edges.map((edge) =>
    declaredOnly(edge)
      ? el(
        'tr',
        { class: 'edge declared' },
        el('td', {}, edge.caller, el('span', { class: 'muted' }, ' → '), edge.callee),
        el('td', { class: 'muted', colspan: 7 }, 'declared in the configuration; no spans in this range')
      )
      : el(
      'tr',
      { class: 'edge' },
      el('td', {}, edge.caller, el('span', { class: 'muted' }, ' → '), edge.callee),
      el('td', { class: 'num' }, number(edge.calls)),
      el('td', { class: 'num' }, number(edge.callsPerSecond)),
      el('td', { class: 'num' }, `${number(edge.errors)} (${percent(edge.errorRatio)})`),
      el('td', { class: 'num' }, seconds(edge.latencyP50Seconds)),
      el('td', { class: 'num' }, seconds(edge.latencyP90Seconds)),
      el('td', { class: 'num' }, seconds(edge.latencyP99Seconds)),
      el('td', { class: 'time' }, when(edge.lastSeen))
    )
  );
  return el(
    'section',
    {},
    el('h1', {}, 'Service calls'),
    el('div', { class: 'toolbar' }, el('label', { for: 'range' }, 'Range'), range,
      el('span', { class: 'muted' }, `${topology.services.length} services, ${topology.edges.length} calls` +
        (declared ? ` (${declared} only declared)` : ''))),
    topology.services.length > 0
      ? [serviceMap(topology, troubled),
         el('p', { class: 'muted legend' }, 'Outlined: in an open incident. Calls: wider is busier; red ≥ 5 % errors, amber ≥ 1 %; dashed: declared in the configuration, no spans in this range.')]
      : null,
    table(
      [['Caller → callee'], ['Calls', 'num'], ['Per second', 'num'], ['Errors', 'num'], ['p50', 'num'], ['p90', 'num'], ['p99', 'num'], ['Last seen']],
      rows,
      'No calls in this range. Send traces over OTLP (/v1/traces); each span with a parent in another service draws an edge. Calls you declare (--dependencies FILE, or dependencies: in the configuration) show at any time.'
    )
  );
}

async function healthView() {
  const stats = await api('stats');
  const kinds = ['logs', 'samples', 'spans', 'alerts', 'changes'].map((kind) =>
    el(
      'div',
      { class: 'card', 'data-kind': kind },
      el('h3', {}, kind),
      el('div', { class: 'big' }, number(stats[kind].processed), el('span', { class: 'muted' }, ' processed')),
      el('div', { class: 'muted' }, `${number(stats[kind].accepted)} accepted · ${number(stats[kind].rejected)} rejected`)
    )
  );
  return el(
    'section',
    {},
    el('h1', {}, 'Health'),
    el(
      'div',
      { class: 'stats' },
      el('div', { class: 'card' }, el('h3', {}, 'pipeline'), el('div', { class: 'big' }, stats.ready ? 'ready' : 'starting'),
        el('div', { class: 'muted' }, `${number(stats.inFlight)} in flight · write-ahead log ${bytes(stats.walBytes)}`)),
      kinds
    ),
    el('p', { class: 'muted' }, 'Rejected input was answered with a 4xx and the reason; nothing accepted is dropped. ',
      'Per-stage latency and queue depth are in ', el('a', { href: '/metrics' }, '/metrics'), '.')
  );
}

// MARK: - Ask

async function ask(question) {
  const response = await fetch('/api/v1/ask', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ question }),
  });
  const text = await response.text();
  if (!response.ok) {
    let message = text;
    try {
      message = JSON.parse(text).error.message || text;
    } catch (_) {
      // not JSON
    }
    throw new APIError(`/api/v1/ask answered ${response.status}: ${message.slice(0, 300)}`);
  }
  return JSON.parse(text);
}

/** The Ask page; `?q=` holds the question (bookmarkable, and linked from an incident), asked once on arrival. */
async function askView(params) {
  const preset = (params.get('q') || '').trim();
  if (preset && (!state.asked || state.asked.question !== preset)) {
    try {
      state.asked = { question: preset, reply: await ask(preset) };
    } catch (error) {
      state.asked = { question: preset, error: error.message };
    }
  }
  const input = el('input', {
    id: 'question',
    type: 'text',
    size: 60,
    maxlength: 2000,
    placeholder: 'why is checkout slow? what changed? what should I do first?',
    value: state.asked ? state.asked.question : '',
  });
  const button = el('button', { id: 'ask-button', type: 'submit' }, 'Ask');
  const form = el('form', { class: 'toolbar', id: 'ask-form' }, input, button);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const question = input.value.trim();
    if (!question) return;
    button.disabled = true;
    button.textContent = 'Asking…';
    input.blur();
    state.asked = null; // asking again, even the same question, fetches a new answer
    if (question === preset) render();
    else go('ask', null, { q: question });
  });
  const parts = [el('h1', {}, 'Ask'), form];
  const asked = state.asked;
  if (asked && asked.error) parts.push(el('div', { class: 'error', id: 'answer-error' }, asked.error));
  if (asked && asked.reply) {
    const reply = asked.reply;
    parts.push(
      el('p', { class: 'narrative', id: 'answer' }, reply.answer),
      el(
        'p',
        { class: 'muted', id: 'answered-by' },
        reply.answeredBy === 'llm'
          ? `Written by ${reply.model} from the facts below (personal data and secrets masked before sending).`
          : 'Answered by Vigil\'s rules from the facts below.',
        reply.llmError ? ` The model's answer was not used: ${reply.llmError}` : ''
      ),
      el('h2', {}, 'Facts'),
      reply.evidence.length > 0
        ? el('ul', { id: 'evidence' }, reply.evidence.map((line) => el('li', {}, line)))
        : el('div', { class: 'empty' }, 'No fact bears on this question.')
    );
  } else if (!asked) {
    parts.push(
      el('p', { class: 'muted' }, 'Answers come from the incidents, anomalies, changes and error logs on the other pages: ',
        'by Vigil\'s rules, or by the language model `vigil serve --llm-url` names.')
    );
  }
  return el('section', {}, parts);
}

// MARK: - Remediation

/** Approves or rejects a run with the server's approval token; the answer is kept for the next render. */
async function decide(run, verb, reason) {
  const response = await fetch(`/api/v1/remediations/${encodeURIComponent(run.id)}/${verb}`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/json',
      Authorization: `Bearer ${state.approver.token}`,
    },
    body: JSON.stringify(verb === 'reject' ? { by: state.approver.name, reason } : { by: state.approver.name }),
  });
  const text = await response.text();
  if (response.ok) return { ok: true, message: `${verb === 'approve' ? 'Approved' : 'Rejected'} ${run.runbook} on ${run.service}.` };
  let message = text;
  try {
    message = JSON.parse(text).error.message || text;
  } catch (_) {
    // not JSON
  }
  return { ok: false, message: `${verb} answered ${response.status}: ${message.slice(0, 300)}` };
}

/** The approval form of a run waiting for a person: name, the server's token, approve or reject. */
function approvalForm(run) {
  const name = el('input', { type: 'text', class: 'approver-name', placeholder: 'your name', size: 16, maxlength: 200, value: state.approver.name });
  const token = el('input', { type: 'password', class: 'approver-token', placeholder: 'approval token', size: 24, value: state.approver.token });
  const reason = el('input', { type: 'text', class: 'reject-reason', placeholder: 'reason (to reject)', size: 28, maxlength: 2000 });
  name.addEventListener('input', () => { state.approver.name = name.value; });
  token.addEventListener('input', () => { state.approver.token = token.value; });
  const act = async (verb) => {
    state.approver.name = name.value.trim();
    state.approver.token = token.value;
    state.decided = await decide(run, verb, reason.value.trim());
    render();
  };
  const approve = el('button', { type: 'button', class: 'approve', onclick: () => act('approve') }, 'Approve and run');
  const reject = el('button', { type: 'button', class: 'reject', onclick: () => act('reject') }, 'Reject');
  return el('div', { class: 'toolbar approval' }, name, token, approve, reason, reject);
}

async function remediationsView(params) {
  const only = params.get('run');
  const runs = (await api('remediations?limit=200')).filter((run) => !only || run.id === only);
  const parts = [el('h1', {}, 'Remediation')];
  if (state.decided) {
    parts.push(el('div', { class: state.decided.ok ? 'notice' : 'error', id: 'decided' }, state.decided.message));
  }
  if (only) parts.push(el('div', { class: 'toolbar' }, el('a', { href: '#/remediations' }, '← all runs')));
  if (runs.length === 0) {
    parts.push(el('div', { class: 'empty' }, only ? `There is no run ${only}.` :
      'No remediation runs. With `vigil serve --runbooks FILE`, each open incident a runbook fits gets a run here: shown, waiting for approval, or running, as the automation level allows.'));
  }
  for (const run of runs) {
    const steps = run.steps.map((step) => el('li', { class: 'mono' }, `${step.name}: ${step.action}`));
    if (run.verify) steps.push(el('li', { class: 'mono' }, `check: ${run.verify}`));
    if (run.rollback) steps.push(el('li', { class: 'mono' }, `rollback: ${run.rollback}`));
    const entries = run.entries.map((entry) =>
      el('tr', { class: 'entry' }, timeCell(entry.time), el('td', {}, entry.state.replaceAll('_', ' ')), el('td', {}, entry.actor), el('td', {}, entry.what))
    );
    parts.push(
      el(
        'div',
        { class: 'card run', 'data-id': run.id, 'data-state': run.state },
        el('h3', {}, pill(run.state.replaceAll('_', ' '), run.state), ` ${run.runbook} on ${run.service}`),
        el('div', { class: 'muted' }, `incident `, el('a', { href: `#/incidents/${encodeURIComponent(run.incident)}` }, run.incident),
          ` · level ${run.level} · ${run.risk} risk${run.dryRun ? ' · dry run' : ''}${run.approvedBy ? ` · approved by ${run.approvedBy}` : ''}`),
        el('ul', { class: 'reasons' }, run.reasons.map((reason) => el('li', {}, reason))),
        el('ol', { class: 'steps' }, steps),
        run.state === 'awaiting_approval' ? approvalForm(run) : null,
        table([['Time'], ['State'], ['By'], ['What happened']], entries, 'Nothing yet.')
      )
    );
  }
  parts.push(el('p', { class: 'muted' }, 'Every step is also in the audit log: ', el('a', { href: '/api/v1/audit' }, '/api/v1/audit'), '.'));
  return el('section', {}, parts);
}

// MARK: - Start

/** Re-renders the current view unless the person is typing in it or the tab is hidden. */
function tick() {
  if (document.visibilityState !== 'visible') return;
  refreshStatus();
  const active = document.activeElement;
  if (active && active.tagName === 'INPUT' && active.type !== 'checkbox') return;
  if (currentRoute().name === 'ask') return; // an answer is not live data
  render();
}

window.addEventListener('hashchange', render);
document.addEventListener('DOMContentLoaded', () => {
  render();
  refreshStatus();
  setInterval(tick, REFRESH_MS);
});
