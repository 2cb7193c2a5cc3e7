/**
 * The sample page's entry: `?origin=` (default: the page's own origin) and `?path=` (default `/`).
 * Run it with `npm run demo:browser`.
 */
import { mountStatusPage } from './status-page.js';

const params = new URLSearchParams(location.search);
const app = document.getElementById('app');
if (app) mountStatusPage(app, params.get('origin') ?? location.origin, { path: params.get('path') ?? '/' });
