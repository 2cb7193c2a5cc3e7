/**
 * A page that shows one rxconn connection live: its state (from `state$`), its lifecycle events,
 * and the requests sent from a button, with their status or error code. In an app, import from
 * `rxconn`; this sample imports the repository's source.
 */
import { open, text } from '../../lib/browser/index.js';
import type { BrowserConnectionOptions, Connection, ConnectionEvent } from '../../lib/browser/index.js';

/** Options of the page. */
export interface StatusPageOptions {
  /** The path the button requests. Default `/`. */
  path?: string;
  /** The connection's options. Default: keepalive every 5 s, endless retries. */
  connection?: BrowserConnectionOptions;
}

/** What the page gives back: its connection, and how to end it (a graceful shutdown). */
export interface StatusPage {
  readonly connection: Connection;
  dispose(): Promise<void>;
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, role: string, textContent = ''): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.dataset.role = role;
  node.textContent = textContent;
  return node;
}

function describeEvent(event: ConnectionEvent): string {
  switch (event.type) {
    case 'connected':
      return `connected (${event.protocol}, attempt ${event.attempt})`;
    case 'disconnected':
      return `disconnected: ${event.error.code} ${event.error.message} (${event.killedStreams} killed)`;
    case 'retrying':
      return `retrying #${event.attempt} in ${event.delay} ms`;
    case 'connecting':
      return `connecting (attempt ${event.attempt})`;
    case 'closing':
      return `closing (${event.activeStreams} active)`;
    default:
      return event.type;
  }
}

/** Renders the page into `root` and opens the connection to `origin`. */
export function mountStatusPage(root: HTMLElement, origin: string, options: StatusPageOptions = {}): StatusPage {
  const path = options.path ?? '/';
  const conn = open(origin, options.connection ?? { keepalive: { interval: 5_000, timeout: 3_000 }, retry: { maxRetries: Infinity, maxDelay: 5_000 } });
  const status = element('span', 'status', conn.state);
  const button = element('button', 'send', `GET ${path}`);
  const requests = element('ol', 'requests');
  const events = element('ol', 'events');
  const heading = document.createElement('h1');
  heading.textContent = `rxconn → ${origin}`;
  const line = document.createElement('p');
  line.append('State: ', status, ' ', button);
  root.replaceChildren(heading, line, element('h2', 'requests-title', 'Requests'), requests, element('h2', 'events-title', 'Events'), events);

  const add = (list: HTMLOListElement, entry: string): void => {
    const item = document.createElement('li');
    item.textContent = `${new Date().toLocaleTimeString()} ${entry}`;
    list.prepend(item);
  };
  const stateSubscription = conn.state$.subscribe(state => {
    status.textContent = state;
    status.dataset.state = state;
  });
  const eventSubscription = conn.subscribe({ next: event => add(events, describeEvent(event)), error: (error: { code?: string }) => add(events, `failed: ${String(error.code)}`) });
  button.addEventListener('click', () => {
    // A cold request: each click sends one; it waits while the link is down (up to maxQueued).
    conn.get(path, { timeout: 10_000 }).pipe(text()).subscribe({
      next: response => add(requests, `${response.status} ${response.body.slice(0, 60)}`),
      error: (error: { code?: string; message?: string }) => add(requests, `${String(error.code)} ${String(error.message)}`),
    });
  });
  return {
    connection: conn,
    dispose: async () => {
      await conn.shutdown();
      stateSubscription.unsubscribe();
      eventSubscription.unsubscribe();
    },
  };
}
