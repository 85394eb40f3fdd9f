import 'uplot/dist/uPlot.min.css';
import './style.css';
import { login, logout, session, type SessionInfo } from './api.js';
import { errorText, h, show } from './dom.js';
import { listPage } from './list.js';
import { modelPage } from './model.js';
import { onNavigate } from './router.js';

const runs = () => import('./runs.js');

function route(s: SessionInfo): void {
  const path = location.pathname.replace(/^\/ui\/?/, '').split('/').filter((p) => p !== '').map(decodeURIComponent);
  const params = new URLSearchParams(location.search);
  document.body.removeAttribute('data-ready');
  switch (path[0]) {
    case undefined:
      return listPage(s, params);
    case 'models':
      return modelPage(s, path[1] ?? '');
    // The runs pages and uPlot load when first wanted: the model list does without them.
    case 'runs':
      return void runs().then((m) => m.runsPage(s));
    case 'chart':
      return void runs().then((m) => m.chartPage(s, params));
    case 'compare':
      return void runs().then((m) => m.comparePage(s, params));
    default:
      show('Not found', h('p', {}, 'There is no such page. ', h('a', { href: '/ui/' }, 'See the models.')));
      document.body.setAttribute('data-ready', 'error');
  }
}

function who(s: SessionInfo): void {
  const out = h('button', { type: 'button', id: 'logout' }, 'Log out');
  out.addEventListener('click', () => {
    void logout().then(() => location.assign('/ui/'));
  });
  document.getElementById('who')!.replaceChildren(`Signed in as ${s.user}${s.reader ? ' (read-only)' : ''} `, s.tokens ? out : '');
}

/** Asks for a token when the server has tokens and there is no session yet. */
function loginPage(then: (s: SessionInfo) => void): void {
  const input = h('input', { id: 'token', type: 'password', name: 'token', autocomplete: 'current-password', required: true });
  const status = h('p', { role: 'status', 'aria-live': 'polite', id: 'login-status' });
  const form = h('form', { class: 'login' }, h('label', { for: 'token' }, 'Token'), ' ', input, ' ', h('button', { type: 'submit' }, 'Log in'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    login(input.value).then(then, (e: unknown) => {
      status.textContent = `Login failed: ${errorText(e)}`;
    });
  });
  show('Log in', h('p', {}, 'This server needs a token (one of http.tokens in its config).'), form, status);
  document.body.setAttribute('data-ready', 'login');
}

async function start(): Promise<void> {
  const s = await session();
  const go = (s: SessionInfo) => {
    who(s);
    onNavigate(() => route(s));
    route(s);
  };
  if (s === null) loginPage((s) => go(s));
  else go(s);
}

start().catch((e: unknown) => {
  show('Error', h('p', {}, errorText(e)));
  document.body.setAttribute('data-ready', 'error');
});
