import { query, type Result, type SessionInfo } from './api.js';
import { cellText, errorText, h, show, table } from './dom.js';
import { quote } from './paging.js';

/** A model name as the language takes it after a command (a bare word). */
const NAME = /^[A-Za-z0-9_.-]+$/;

async function section(title: string, q: string): Promise<HTMLElement> {
  try {
    const r = await query(q);
    return h('section', { 'aria-label': title }, h('h2', {}, title), r.results.length === 0 ? h('p', {}, 'None.') : table(title, r.fields, r.results));
  } catch (e) {
    return h('section', { 'aria-label': title }, h('h2', {}, title), h('p', {}, errorText(e)));
  }
}

function column(r: Result, name: string): unknown[] {
  const ix = r.fields.findIndex((f) => f.name === name);
  return ix < 0 ? [] : r.results.map((row) => row[ix]);
}

/** One model: its summary, versions with their tags and aliases, files, serving history, and deploy/stop for its owner. */
export function modelPage(s: SessionInfo, name: string): void {
  if (!NAME.test(name)) {
    show('Not found', h('p', {}, `${name} is not a model name.`));
    document.body.setAttribute('data-ready', 'error');
    return;
  }
  const status = h('p', { role: 'status', 'aria-live': 'polite', id: 'model-status' }, 'Loading…');
  show(name, status);
  void draw();

  async function draw(message = ''): Promise<void> {
    document.body.removeAttribute('data-ready');
    let summary: Result;
    try {
      summary = await query(`mlmodel summary ${name}`);
    } catch (e) {
      status.textContent = errorText(e);
      document.body.setAttribute('data-ready', 'error');
      return;
    }
    const field = (f: string) => summary.results.find((r) => r[0] === f)?.[1];
    const [versions, files, serving] = await Promise.all([
      query(`mlmodel versions ${name}`).catch(() => null),
      section('Files', `mlmodel files ${name}`),
      section('Serving history', `serving status ${name}`),
    ]);
    const tags = versions ? [...new Set(column(versions, 'tags').flatMap((t) => cellText(t).split(',')).filter((t) => t !== ''))] : [];
    const aliases = versions ? column(versions, 'aliases').map(cellText).filter((a) => a !== '') : [];
    const main = show(
      name,
      status,
      actions(s, name, String(field('user') ?? ''), String(field('serving') ?? ''), draw),
      h('section', { 'aria-label': 'Summary' }, h('h2', {}, 'Summary'), table('Summary', summary.fields, summary.results)),
      h('section', { 'aria-label': 'Tags and aliases' }, h('h2', {}, 'Tags and aliases'), h('p', { id: 'tags' }, `Tags: ${tags.join(', ') || 'none'}`), h('p', { id: 'aliases' }, `Aliases: ${aliases.join('; ') || 'none'}`)),
      h('section', { 'aria-label': 'Versions' }, h('h2', {}, 'Versions'), versions ? table('Versions', versions.fields, versions.results) : h('p', {}, 'Not available.')),
      files,
      serving,
    );
    status.textContent = message;
    main.querySelector('h1')!.textContent = name;
    document.body.setAttribute('data-ready', 'model');
  }
}

/** Deploy and stop, shown only to the model's owner when the session may write; the server checks again. */
function actions(s: SessionInfo, name: string, owner: string, serving: string, redraw: (message: string) => Promise<void>): HTMLElement | null {
  if (s.reader || owner !== s.user) return h('p', { class: 'note' }, s.reader ? 'You may only read.' : `Only ${owner} may deploy or stop this model.`);
  const label = h('input', { id: 'deploy-label', name: 'label', value: 'web', size: '12' });
  const deploy = h('button', { type: 'submit', id: 'deploy' }, 'Deploy');
  const stop = h('button', { type: 'button', id: 'stop', disabled: serving !== 'on' }, 'Stop serving');
  const form = h('form', { class: 'actions', 'aria-label': 'Serving actions' }, h('label', { for: 'deploy-label' }, 'Deploy label'), ' ', label, ' ', deploy, ' ', stop);
  const run = async (q: string, done: string) => {
    deploy.disabled = stop.disabled = true;
    try {
      await query(q);
      await redraw(done);
    } catch (e) {
      await redraw(`Failed: ${errorText(e)}`);
    }
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void run(`mlmodel deploy ${name} label=${quote(label.value)}`, `Deployed ${name}.`);
  });
  stop.addEventListener('click', () => void run(`mlmodel stop ${name}`, `Stopped ${name}.`));
  return form;
}
