import uPlot from 'uplot';
import { getJson, query, type Result, type SessionInfo } from './api.js';
import { cellText, errorText, h, show, table } from './dom.js';
import { navigate } from './router.js';
import { align, smooth } from './smooth.js';

const ID = /^\d{1,15}$/;
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

function ids(params: URLSearchParams): string[] {
  return (params.get('runs') ?? '').split(',').filter((r) => ID.test(r));
}

/** Every training run, to chart or compare a selection of them. */
export function runsPage(_s: SessionInfo): void {
  const status = h('p', { role: 'status', 'aria-live': 'polite' }, 'Loading…');
  show('Runs', status);
  void (async () => {
    let r: Result;
    try {
      r = await query('mlmodel runs | fields id, experiment, name, user, status, last_step, metrics | sort -id | head 500');
    } catch (e) {
      status.textContent = errorText(e);
      document.body.setAttribute('data-ready', 'error');
      return;
    }
    const picked = new Set<string>();
    const chart = h('button', { type: 'button', id: 'chart-selected', disabled: true }, 'Chart selected');
    const compare = h('button', { type: 'button', id: 'compare-selected', disabled: true }, 'Compare selected');
    const update = () => {
      chart.disabled = picked.size < 1;
      compare.disabled = picked.size < 2;
    };
    chart.addEventListener('click', () => navigate(`/ui/chart?runs=${[...picked].join(',')}`));
    compare.addEventListener('click', () => navigate(`/ui/compare?runs=${[...picked].join(',')}`));
    const rows = r.results.map((row) => {
      const id = String(row[0]);
      const box = h('input', { type: 'checkbox', id: `pick-${id}`, 'aria-label': `Select run ${id}` });
      box.addEventListener('change', () => {
        if (box.checked) picked.add(id);
        else picked.delete(id);
        update();
      });
      return h('tr', {}, h('td', {}, box), h('td', {}, h('a', { href: `/ui/chart?runs=${id}` }, id)), ...row.slice(1).map((c) => h('td', {}, cellText(c))));
    });
    show(
      'Runs',
      h('p', {}, chart, ' ', compare),
      r.results.length === 0
        ? h('p', {}, 'No runs yet.')
        : h('table', { id: 'runs' }, h('caption', {}, 'Training runs, newest first'), h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'select'), ...r.fields.map((f) => h('th', { scope: 'col' }, f.name)))), h('tbody', {}, ...rows)),
    );
    document.body.setAttribute('data-ready', 'runs');
  })();
}

interface ChartAnswer {
  readonly fields: readonly { name: string }[];
  readonly results: readonly (readonly unknown[])[];
}

/** What the browser tests and the bench read back from the drawn chart. */
export interface ChartProbe {
  data: (number | null)[][];
  series: string[];
  drawMs: number;
  log: boolean;
  /** The x scale's range as drawn (narrower after a zoom). */
  x: [number, number];
}
declare global {
  interface Window {
    mlmodelChart?: ChartProbe;
  }
}

/** Runs' metric charts, overlaid: zoom by dragging (double-click resets), log scale, smoothing; points downsampled by the server. */
export function chartPage(_s: SessionInfo, params: URLSearchParams): void {
  const runs = ids(params);
  if (runs.length === 0) {
    show('Chart', h('p', {}, 'Pick runs to chart on the ', h('a', { href: '/ui/runs' }, 'runs page'), '.'));
    document.body.setAttribute('data-ready', 'error');
    return;
  }
  const status = h('p', { role: 'status', 'aria-live': 'polite', id: 'chart-status' }, 'Loading…');
  show(`Chart of run${runs.length > 1 ? 's' : ''} ${runs.join(', ')}`, status);
  void (async () => {
    let info: Result;
    try {
      info = await query(`mlmodel runs | where id in (${runs.join(', ')}) | fields id, name, metrics`);
    } catch (e) {
      status.textContent = errorText(e);
      document.body.setAttribute('data-ready', 'error');
      return;
    }
    const names = [...new Set(info.results.flatMap((r) => Object.keys((r[2] as Record<string, unknown> | null) ?? {})))].sort();
    const metric = h('select', { id: 'metric' }, ...names.map((n) => h('option', { value: n }, n)));
    const wanted = params.get('metric');
    if (wanted !== null && names.includes(wanted)) metric.value = wanted;
    const logBox = h('input', { type: 'checkbox', id: 'log-scale' });
    const smoothing = h('input', { type: 'range', id: 'smoothing', min: '0', max: '0.99', step: '0.01', value: '0' });
    const smoothOut = h('output', { for: 'smoothing', id: 'smoothing-value' }, '0');
    const reset = h('button', { type: 'button', id: 'reset-zoom' }, 'Reset zoom');
    const box = h('div', { id: 'chart', role: 'img', 'aria-label': 'metric chart' });
    const controls = h(
      'form',
      { class: 'controls', 'aria-label': 'Chart controls' },
      h('label', { for: 'metric' }, 'Metric'), ' ', metric, ' ',
      h('label', {}, logBox, ' Log scale'), ' ',
      h('label', { for: 'smoothing' }, 'Smoothing'), ' ', smoothing, ' ', smoothOut, ' ',
      reset,
    );
    controls.addEventListener('submit', (ev) => ev.preventDefault());
    show(`Chart of run${runs.length > 1 ? 's' : ''} ${runs.join(', ')}`, controls, status, box, h('p', {}, h('a', { href: `/ui/compare?runs=${runs.join(',')}` }, 'Compare these runs')));
    if (names.length === 0) {
      status.textContent = 'These runs have logged no metrics.';
      document.body.setAttribute('data-ready', 'chart');
      return;
    }

    let raw: { x: number[]; ys: (number | null)[][] } = { x: [], ys: [] };
    let plot: uPlot | null = null;
    const label = (id: string) => {
      const row = info.results.find((r) => String(r[0]) === id);
      return `run ${id}${row && row[1] ? ` (${cellText(row[1])})` : ''}`;
    };

    const draw = () => {
      const w = Number(smoothing.value);
      smoothOut.textContent = String(w);
      const data: uPlot.AlignedData = [raw.x, ...raw.ys.map((y) => smooth(y, w))];
      const width = Math.max(320, box.clientWidth || 900);
      const opts: uPlot.Options = {
        width,
        height: 360,
        scales: { x: { time: false }, y: logBox.checked ? { distr: 3 } : {} },
        axes: [{ label: 'step' }, { label: metric.value }],
        cursor: { drag: { x: true, y: false } },
        series: [{ label: 'step' }, ...runs.map((id, i) => ({ label: label(id), stroke: COLORS[i % COLORS.length]!, width: 1.5, spanGaps: true }))],
        hooks: {
          draw: [
            (u: uPlot) => {
              window.mlmodelChart = {
                data: data.map((d) => [...(d as (number | null)[])]),
                series: runs.map(label),
                drawMs: performance.now() - started,
                log: logBox.checked,
                x: [u.scales.x!.min ?? NaN, u.scales.x!.max ?? NaN],
              };
              document.body.setAttribute('data-ready', 'chart');
            },
          ],
        },
      };
      plot?.destroy();
      box.replaceChildren();
      const started = performance.now();
      plot = new uPlot(opts, data, box);
    };

    const load = async () => {
      document.body.removeAttribute('data-ready');
      status.textContent = 'Loading…';
      // The server reduces each history to about two points per pixel (the terminal chart's downsampler).
      const points = Math.min(100_000, Number(params.get('points') ?? 0) || Math.max(2, Math.round((box.clientWidth || 900) * 2)));
      try {
        const answers = await Promise.all(runs.map((id) => getJson<ChartAnswer>(`/runs/${id}/chart?metric=${encodeURIComponent(metric.value)}&points=${points}`)));
        raw = align(
          answers.map((a) => {
            const si = a.fields.findIndex((f) => f.name === 'step');
            const vi = a.fields.findIndex((f) => f.name === 'value');
            return { steps: a.results.map((r) => Number(r[si])), values: a.results.map((r) => Number(r[vi])) };
          }),
        );
        status.textContent = `${metric.value}: ${raw.x.length} steps drawn. Drag across the chart to zoom.`;
        draw();
      } catch (e) {
        status.textContent = errorText(e);
        document.body.setAttribute('data-ready', 'error');
      }
    };
    metric.addEventListener('change', () => void load());
    logBox.addEventListener('change', draw);
    smoothing.addEventListener('input', draw);
    reset.addEventListener('click', draw);
    await load();
  })();
}

/** Runs side by side, the rows whose values differ marked (bolt4ds highlights changed hyper-parameters). */
export function comparePage(_s: SessionInfo, params: URLSearchParams): void {
  const runs = ids(params);
  const title = `Compare runs ${runs.join(', ')}`;
  if (runs.length < 2) {
    show('Compare', h('p', {}, 'Pick two or more runs on the ', h('a', { href: '/ui/runs' }, 'runs page'), '.'));
    document.body.setAttribute('data-ready', 'error');
    return;
  }
  const status = h('p', { role: 'status', 'aria-live': 'polite' }, 'Loading…');
  show(title, status);
  void (async () => {
    try {
      const r = await query(`mlmodel compare ${runs.join(', ')}`);
      const changed = r.fields.findIndex((f) => f.name === 'changed');
      const n = r.results.filter((row) => row[changed] === true).length;
      const t = table(title, r.fields, r.results, (row) => (row[changed] === true ? 'changed' : undefined));
      t.id = 'compare';
      show(title, h('p', {}, `${n} field${n === 1 ? '' : 's'} differ (highlighted).`), t, h('p', {}, h('a', { href: `/ui/chart?runs=${runs.join(',')}` }, 'Chart these runs')));
      document.body.setAttribute('data-ready', 'compare');
    } catch (e) {
      status.textContent = errorText(e);
      document.body.setAttribute('data-ready', 'error');
    }
  })();
}
