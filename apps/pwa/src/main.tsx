/**
 * @module main — the entry: paints the shell and registers the service worker that keeps the app
 * working offline after the first load.
 */
import { render } from 'preact';
import { App } from './app.js';

render(<App />, document.getElementById('app')!);

// Not under the dev server (import.meta.hot), whose files change on every edit.
if ('serviceWorker' in navigator && !import.meta.hot)
  void navigator.serviceWorker.register('./sw.js', { scope: './' });
