// The chat page of `persona serve`: plain JavaScript, no build step, talks only to this server.
// Answers stream from /v1/chat/completions, with the monitored personas' readings (`monitor`)
// shown live under each answer; tints come from /v1/projections.

import { sseChunks } from './sseChunks.js';

const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k in e) e[k] = v;
    else e.setAttribute(k, v);
  }
  e.append(...children);
  return e;
};
/** Most answer tokens `/v1/projections` reads per request (the server's MAX_PROJECTION_TOKENS). */
const MAX_PROJECTION_TOKENS = 4096;
const fmt = (x) => (x > 0 ? '+' : x < 0 ? '−' : '') + Math.abs(x).toFixed(1).replace(/\.0$/, '');
const fmt2 = (x) => (x === null || x === undefined ? '–' : (x > 0 ? '+' : x < 0 ? '−' : '') + Math.abs(x).toFixed(2));

const state = {
  model: null,
  personas: new Map(),
  history: [],
  busy: null,
  seed: 1,
};

// --- API helpers ------------------------------------------------------------------------------

function headers() {
  const h = { 'content-type': 'application/json' };
  const key = sessionStorage.getItem('persona-api-key');
  if (key) h.authorization = `Bearer ${key}`;
  return h;
}

async function api(path, init = {}) {
  const res = await fetch(path, { ...init, headers: { ...headers(), ...(init.headers || {}) } });
  if (res.status === 401) {
    $('key-box').hidden = false;
    $('api-key').focus();
  }
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try {
      message = (await res.json()).error.message;
    } catch {
      // no JSON error body: keep the status text
    }
    throw new Error(message);
  }
  return res;
}

/**
 * Streams one chat completion; calls onText for each piece and onMonitor for each monitor field
 * (`{ field }`: the request's `persona_monitor`, first with the prompt end, last with every token;
 * `{ readings }`: per-token readings riding on a choice's chunk); returns the final chunk's choice.
 */
async function streamCompletion(body, onText, signal, onMonitor = () => {}) {
  const res = await api('/v1/chat/completions', { method: 'POST', body: JSON.stringify({ ...body, stream: true }), signal });
  let final = null;
  for await (const chunk of sseChunks(res.body)) {
    if (chunk.persona_monitor) onMonitor({ field: chunk.persona_monitor });
    for (const c of chunk.choices) {
      if (c.delta && c.delta.content) onText(c.delta.content);
      if (c.persona_monitor) onMonitor({ readings: c.persona_monitor });
      if (c.finish_reason) final = c;
    }
  }
  return final;
}

// --- Controls ---------------------------------------------------------------------------------

function selectedPersona() {
  return state.personas.get($('persona').value) || null;
}

function updateAlphaLabel() {
  $('alpha-value').textContent = fmt(Number($('alpha').value));
}

function onPersonaChange() {
  const p = selectedPersona();
  const alpha = $('alpha');
  const layer = $('layer');
  layer.replaceChildren();
  const L = state.model ? state.model.num_layers : 0;
  for (let l = 0; l < L; l++) {
    const rec = p && p.recommended_layer === l;
    layer.append(el('option', { value: String(l), textContent: rec ? `${l} ★` : String(l), title: rec ? 'recommended layer' : '', selected: rec }));
  }
  if (!p) {
    $('persona-desc').textContent = 'No steering: the model answers as it is.';
    alpha.disabled = true;
    layer.disabled = true;
    $('alpha-rec').textContent = '';
  } else {
    const [lo, hi] = p.alpha_range;
    const span = Math.max(Math.abs(lo), Math.abs(hi)) || 8;
    alpha.min = String(Math.min(lo, -span));
    alpha.max = String(Math.max(hi, span));
    alpha.step = String(span / 16);
    alpha.disabled = false;
    layer.disabled = false;
    $('alpha-min').textContent = fmt(Number(alpha.min));
    $('alpha-max').textContent = fmt(Number(alpha.max));
    // A persona whose file records the steering check's does-not-steer verdict has no recommendation to show.
    const noSteer = p.steering_verdict === 'does-not-steer';
    $('alpha-rec').textContent = noSteer ? 'no measured recommendation' : `recommended ${fmt(lo)} … ${fmt(hi)}`;
    $('persona-desc').textContent = noSteer
      ? `${p.description || p.name} · warning: does not measurably steer this model (its file records the steering check's verdict; layer ${p.recommended_layer} is only the most separable one)`
      : `${p.description || p.name} · recommended layer ${p.recommended_layer}, alpha ${fmt(lo)} to ${fmt(hi)}` +
        (p.fits_model ? '' : ' · made for another model, cannot steer this one');
  }
  updateAlphaLabel();
}

async function loadModelAndPersonas() {
  const models = await (await api('/v1/models')).json();
  state.model = models.data[0];
  $('model-info').textContent =
    `${state.model.id} · ${state.model.num_layers} layers · hidden ${state.model.hidden_size} · context ${state.model.context_length}`;
  $('max-tokens').max = String(state.model.context_length);
  const list = await (await api('/v1/personas')).json();
  const select = $('persona');
  select.replaceChildren(el('option', { value: '', textContent: '(none: unsteered)' }));
  state.personas.clear();
  for (const p of list.data) {
    state.personas.set(p.id, p);
    const mark = p.steering_verdict === 'does-not-steer' ? ' (does not measurably steer)' : '';
    select.append(el('option', { value: p.id, textContent: (p.description ? `${p.id} — ${p.description}` : p.id) + mark, disabled: !p.fits_model }));
  }
  const first = list.data.find((p) => p.fits_model);
  if (first) select.value = first.id;
  onPersonaChange();
  // Monitor picker: every persona that fits the model; the first is monitored to begin with.
  const picked = new Set(monitoredPersonas());
  const pick = $('monitor');
  pick.replaceChildren();
  for (const p of list.data.filter((x) => x.fits_model)) {
    const box = el('input', { type: 'checkbox', value: p.id, checked: picked.size ? picked.has(p.id) : p === first });
    pick.append(el('label', { title: `monitor ${p.id} at layer ${p.recommended_layer}` }, box, p.id));
  }
  if (!pick.children.length) pick.append(el('span', { className: 'muted', textContent: 'no personas' }));
}

/** The personas ticked in the monitor picker (at most the server's 8). */
function monitoredPersonas() {
  return Array.from(document.querySelectorAll('#monitor input:checked'), (i) => i.value).slice(0, 8);
}

async function loadReports() {
  const list = await (await api('/v1/reports')).json();
  const ul = $('reports');
  ul.replaceChildren();
  if (!list.data.length) ul.append(el('li', { className: 'muted', textContent: 'none found' }));
  for (const r of list.data) {
    const view = el('a', { href: r.url, textContent: r.name });
    view.addEventListener('click', (e) => {
      e.preventDefault();
      void showReport(r);
    });
    ul.append(el('li', {}, view, el('a', { href: r.url, target: '_blank', rel: 'noopener', textContent: '↗', title: 'open in a new tab' })));
  }
}

/** Shows a report in a sandboxed frame (fetched with the API key, so it works when one is set). */
async function showReport(r) {
  const html = await (await api(r.url)).blob();
  const frame = $('viewer-frame');
  if (frame.src.startsWith('blob:')) URL.revokeObjectURL(frame.src);
  frame.src = URL.createObjectURL(new Blob([html], { type: 'text/html' }));
  $('viewer-title').textContent = r.name;
  $('viewer').hidden = false;
}

// --- Chat -------------------------------------------------------------------------------------

function answerBox(kind, label) {
  const text = el('div', { className: 'text' });
  const box = el('div', { className: 'answer', dataset: { kind, done: 'false' } }, el('div', { className: 'label' }, label), text);
  return { box, text, content: '', tokenIds: null };
}

/**
 * The live monitor under an answer: one row per persona with its prompt-end value, a sparkline of the
 * per-token values (dashed line: the prompt end) and the latest value (the answer's mean once done).
 */
function monitorPanel(names) {
  const panel = el('div', { className: 'monitor', dataset: { updates: '0' } });
  const rows = names.map((name) => {
    const svg = $('sparkline').content.firstElementChild.cloneNode(true);
    const [zero, start] = svg.querySelectorAll('line');
    const line = svg.querySelector('polyline');
    const label = el('span', { className: 'name', textContent: name });
    const startText = el('span', { className: 'start-value', textContent: 'start –' });
    const now = el('span', { className: 'now', textContent: '–' });
    const row = el('div', { className: 'monitor-row', dataset: { persona: name, count: '0' } }, label, startText, svg, now);
    panel.append(row);
    return { name, row, label, startText, now, svg, zero, start, line, layer: null, promptEnd: null, values: [] };
  });
  const draw = (r) => {
    const all = [...r.values, ...(r.promptEnd === null ? [] : [r.promptEnd]), 0];
    const lo = Math.min(...all);
    const hi = Math.max(...all);
    const y = (v) => (hi > lo ? 19 - (18 * (v - lo)) / (hi - lo) : 10).toFixed(2);
    const x = (i) => (r.values.length > 1 ? (100 * i) / (r.values.length - 1) : 50).toFixed(2);
    r.line.setAttribute('points', r.values.map((v, i) => `${x(i)},${y(v)}`).join(' '));
    for (const [ln, v] of [
      [r.zero, 0],
      [r.start, r.promptEnd],
    ]) {
      ln.setAttribute('x1', '0');
      ln.setAttribute('x2', '100');
      ln.setAttribute('y1', v === null ? '-5' : y(v));
      ln.setAttribute('y2', v === null ? '-5' : y(v));
    }
    r.row.dataset.count = String(r.values.length);
    r.row.title = `${r.name}${r.layer === null ? '' : ` at layer ${r.layer}`}: prompt end ${fmt2(r.promptEnd)}, ${r.values.length} tokens read (gap units; dashed: the prompt end, grey: 0)`;
  };
  return {
    el: panel,
    /** The request's `persona_monitor`: the prompt end (first chunk), then every token and the means (closing chunk). */
    field(f) {
      f.personas.forEach((p, k) => {
        const r = rows[k];
        if (!r) return;
        r.layer = p.layer;
        r.label.textContent = `${p.persona} @${p.layer}`;
        r.promptEnd = p.prompt_end;
        r.row.dataset.promptEnd = String(p.prompt_end);
        r.startText.textContent = `start ${fmt2(p.prompt_end)}`;
        if (p.tokens) r.values = p.tokens[0] || [];
        if (p.response_mean) {
          r.now.textContent = `mean ${fmt2(p.response_mean[0])}`;
          r.row.dataset.mean = String(p.response_mean[0]);
        }
        draw(r);
      });
      panel.dataset.updates = String(Number(panel.dataset.updates) + 1);
    },
    /** Per-token readings `[{ token, values }]`, values in the order of the monitored personas. */
    readings(list) {
      for (const { token, values } of list) {
        rows.forEach((r, k) => {
          r.values[token] = values[k];
          r.now.textContent = fmt2(values[k]);
        });
      }
      rows.forEach(draw);
      panel.dataset.updates = String(Number(panel.dataset.updates) + 1);
    },
  };
}

function renderTint(slots, results) {
  const all = results.flatMap((r) => (r ? r.tokens.map((t) => t.projection) : []));
  if (!all.length) return;
  const center = all.reduce((a, x) => a + x, 0) / all.length;
  const dev = all.map((x) => Math.abs(x - center)).sort((a, b) => a - b);
  const scale = dev[Math.floor(0.95 * (dev.length - 1))] || 1;
  slots.forEach((s, i) => {
    const r = results[i];
    if (!r) return;
    const spans = r.tokens.map((t) => {
      const x = Math.max(-1, Math.min(1, (t.projection - center) / scale));
      const span = el('span', { className: 'tok', textContent: t.token, title: `${t.projection.toFixed(3)} (gap units, layer ${r.layer})` });
      span.dataset.projection = String(t.projection);
      span.style.backgroundColor = x >= 0 ? `rgba(var(--pos), ${(0.6 * x).toFixed(3)})` : `rgba(var(--neg), ${(-0.6 * x).toFixed(3)})`;
      return span;
    });
    // Token pieces may not join to the streamed text exactly (byte-level tokens): keep the text if they differ.
    // The server reads at most the first 64 tokens: the rest of the answer stays plain text.
    const read = r.tokens.map((t) => t.token).join('');
    if (s.content.startsWith(read)) s.text.replaceChildren(...spans, s.content.slice(read.length));
    s.box.dataset.tinted = 'true';
  });
}

async function send(message) {
  const persona = selectedPersona();
  const alpha = Number($('alpha').value);
  const layer = Number($('layer').value);
  const compare = $('compare').checked;
  const steer = persona && alpha !== 0 ? { persona: persona.id, alpha, layer } : null;
  const messages = [...state.history, { role: 'user', content: message }];
  const common = {
    model: state.model.id,
    messages,
    max_tokens: Math.max(1, Math.floor(Number($('max-tokens').value) || 64)),
    temperature: Number($('temperature').value) || 0,
    seed: state.seed++,
    return_token_ids: true,
  };
  const monitored = monitoredPersonas();
  if (monitored.length) common.monitor = monitored;

  const log = $('log');
  log.querySelector('.empty')?.remove();
  log.append(el('div', { className: 'user-msg', textContent: message }));
  const steerLabel = steer
    ? el('span', {}, el('strong', { textContent: `${persona.id} α ${fmt(alpha)}` }), ` · layer ${layer}`)
    : el('span', { textContent: 'unsteered' });
  const slots = [];
  if (compare && steer) slots.push({ ...answerBox('unsteered', el('span', { textContent: 'unsteered' })), body: {} });
  slots.push({ ...answerBox(steer ? 'steered' : 'unsteered', steerLabel), body: steer || {} });
  if (monitored.length) {
    for (const s of slots) {
      s.monitor = monitorPanel(monitored);
      s.box.append(s.monitor.el);
    }
  }
  const turn = el('div', { className: slots.length === 2 ? 'turn two' : 'turn' }, ...slots.map((s) => s.box));
  turn.dataset.alpha = String(steer ? alpha : 0);
  log.append(turn);
  log.scrollTop = log.scrollHeight;

  const ctrl = new AbortController();
  state.busy = ctrl;
  $('send').disabled = true;
  $('stop').disabled = false;
  await Promise.all(
    slots.map(async (s) => {
      try {
        const final = await streamCompletion(
          { ...common, ...s.body },
          (t) => {
            s.content += t;
            s.text.textContent = s.content;
            log.scrollTop = log.scrollHeight;
          },
          ctrl.signal,
          (m) => {
            if (!s.monitor) return;
            if (m.field) s.monitor.field(m.field);
            else s.monitor.readings(m.readings);
          },
        );
        s.tokenIds = final && final.token_ids ? final.token_ids : null;
      } catch (err) {
        if (err.name === 'AbortError') {
          // The answer was cut by Stop: say so, so it is not read as a finished answer.
          s.box.dataset.stopped = 'true';
          s.text.append(el('div', { className: 'stopped', textContent: '■ stopped' }));
        } else s.text.append(el('div', { className: 'error', textContent: err.message }));
      } finally {
        s.box.dataset.done = 'true';
      }
    }),
  );
  state.busy = null;
  $('send').disabled = false;
  $('stop').disabled = true;
  const main = slots[slots.length - 1];
  state.history.push({ role: 'user', content: message }, { role: 'assistant', content: main.content });

  if ($('tint').checked && persona && persona.fits_model) {
    const results = await Promise.all(
      slots.map(async (s) => {
        if (!s.tokenIds || !s.tokenIds.length) return null;
        try {
          const res = await api('/v1/projections', {
            method: 'POST',
            body: JSON.stringify({ persona: persona.id, layer, messages, completion_ids: s.tokenIds.slice(0, MAX_PROJECTION_TOKENS) }),
          });
          return await res.json();
        } catch {
          return null;
        }
      }),
    );
    renderTint(slots, results);
  }
}

/** A short line in the conversation that is not a message (e.g. why a message was not sent). */
function notice(text) {
  const log = $('log');
  log.querySelector('.empty')?.remove();
  log.append(el('p', { className: 'notice', role: 'status', textContent: text }));
  log.scrollTop = log.scrollHeight;
}

function init() {
  $('persona').addEventListener('change', onPersonaChange);
  $('alpha').addEventListener('input', updateAlphaLabel);
  $('api-key').addEventListener('change', () => {
    sessionStorage.setItem('persona-api-key', $('api-key').value);
    void start();
  });
  $('composer').addEventListener('submit', (e) => {
    e.preventDefault();
    const text = $('message').value.trim();
    if (!text || state.busy) return;
    if (!state.model) {
      // Not connected yet (with --api-key: no key entered): keep the message and say why.
      notice(
        !$('key-box').hidden
          ? 'Enter the API key first (this server was started with --api-key); your message is kept.'
          : 'Not connected to the server yet; your message is kept.',
      );
      if (!$('key-box').hidden) $('api-key').focus();
      return;
    }
    $('message').value = '';
    void send(text);
  });
  $('message').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      $('composer').requestSubmit();
    }
  });
  $('stop').addEventListener('click', () => state.busy?.abort());
  $('clear').addEventListener('click', () => {
    state.history = [];
    $('log').replaceChildren(el('p', { className: 'empty muted', textContent: 'New conversation.' }));
  });
  $('viewer-close').addEventListener('click', () => ($('viewer').hidden = true));
  void start();
}

async function start() {
  try {
    await loadModelAndPersonas();
    $('key-box').hidden = !sessionStorage.getItem('persona-api-key') && $('key-box').hidden;
    document.body.dataset.ready = 'true';
    await loadReports();
  } catch (err) {
    $('model-info').textContent = `cannot reach the server: ${err.message}`;
  }
}

init();
