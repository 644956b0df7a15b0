/**
 * The console page: preact + htm (no JSX, so esbuild bundles it as plain TypeScript). Pages by
 * URL hash: `#/` requests, `#/requests/<id>` one request's trail, `#/start`, `#/holds`,
 * `#/sweeps`, `#/retention`. Controls a role may not use are not rendered (the API refuses them anyway).
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { api, setRole, setToken, token, type Me } from './api';
import { DetailPage } from './detail';
import { HoldsPage, SweepsPage } from './holds';
import { ListPage } from './list';
import { RetentionPage } from './retention';
import { StartPage } from './start';

function useHash(): string {
  const [hash, setHash] = useState(location.hash || '#/');
  useEffect(() => {
    const on = () => setHash(location.hash || '#/');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

interface Config {
  auth: 'local' | 'cognito';
  loginUrl?: string;
}

function takeTokenFromRedirect(): void {
  // Cognito's hosted UI returns the token in the fragment (`#access_token=…`): keep it, clean the URL.
  const m = /access_token=([^&]+)/.exec(location.hash);
  if (m) {
    setToken(decodeURIComponent(m[1]));
    history.replaceState(null, '', `${location.pathname}#/`);
  }
}

function Login({ config, onIn }: { config: Config; onIn: (me: Me) => void }) {
  const [error, setError] = useState('');
  if (config.auth === 'cognito') return html`<main><h1>Sign in</h1><p><a href=${config.loginUrl}>Sign in with your organisation's account</a></p></main>`;
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    const res = await api<{ token: string } & Me>('POST', '/api/login', { user: form.get('user'), password: form.get('password') });
    if (res.status !== 200) return setError(res.body.message ?? 'sign-in failed');
    setToken(res.body.token);
    setRole(res.body.role);
    onIn({ user: res.body.user, role: res.body.role });
  };
  return html`<main>
    <h1>Sign in</h1>
    <p class="muted">Local users are printed by <code>dsr console</code> (and kept in the data directory's console-users.json).</p>
    <form onSubmit=${submit}>
      <label for="login-user">User</label><input id="login-user" name="user" autocomplete="username" required />
      <label for="login-password">Password</label><input id="login-password" name="password" type="password" autocomplete="current-password" required />
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <div><button type="submit">Sign in</button></div>
    </form>
  </main>`;
}

function App() {
  const hash = useHash();
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [config, setConfig] = useState<Config>({ auth: 'local' });
  useEffect(() => {
    takeTokenFromRedirect();
    void fetch('config.json').then(async (r) => r.ok && setConfig((await r.json()) as Config)).catch(() => undefined);
    if (!token()) return setMe(null);
    void api<Me>('GET', '/api/me').then((r) => {
      setRole(r.status === 200 ? r.body.role : null);
      setMe(r.status === 200 ? r.body : null);
    });
  }, []);
  if (me === undefined) return html`<main><p>Loading…</p></main>`;
  if (me === null) return html`<${Login} config=${config} onIn=${setMe} />`;
  const support = me.role === 'support';
  const path = hash.slice(1);
  const detail = /^\/requests\/([A-Za-z0-9_-]+)$/.exec(path);
  const page = detail
    ? html`<${DetailPage} id=${detail[1]} me=${me} />`
    : path === '/start' && support
      ? html`<${StartPage} me=${me} />`
      : path === '/holds' && support
        ? html`<${HoldsPage} />`
        : path === '/sweeps'
          ? html`<${SweepsPage} me=${me} />`
          : path === '/retention'
            ? html`<${RetentionPage} />`
            : html`<${ListPage} />`;
  const out = () => {
    setToken(null);
    setRole(null);
    setMe(null);
  };
  return html`
    <header>
      <strong>Subject rights console</strong>
      <nav aria-label="Main">
        <a href="#/">Requests</a>
        ${support && html`<a href="#/start">Start a request</a>`}
        ${support && html`<a href="#/holds">Holds</a>`}
        <a href="#/sweeps">Sweeps</a>
        <a href="#/retention">Retention</a>
      </nav>
      <span class="muted">${me.user} (${me.role})</span>
      <button class="secondary flush" type="button" onClick=${out}>Sign out</button>
    </header>
    ${page}`;
}

render(html`<${App} />`, document.getElementById('app')!);
