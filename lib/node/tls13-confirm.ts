/**
 * TLS 1.3 moves the server's verdict on our client certificate after the handshake: the client
 * finishes first, and a server that requires a certificate (none sent, or one it refuses) answers
 * with an alert one round trip later. Reporting the connection as up at `secureConnect` would
 * announce a connection that never was. So when the server asked for a certificate, the dial
 * waits for a sign that it accepted us: its first NewSessionTicket (the `session` event: servers
 * send tickets once the client's Finished, and certificate, are accepted); an alert in between is
 * a TLS failure like any certificate failure. A server that sends neither is handed over after
 * {@link TLS13_CONFIRM_GRACE} ms at most (then a late alert still fails the session).
 *
 * A server that did not ask for a certificate has no verdict to give: it is handed over at once,
 * so servers that send no tickets (nginx with `ssl_conf_command NumTickets 0`) connect without
 * the grace period.
 *
 * The direct dial (`transport.ts`) and the proxy chain (`proxy/chain.ts`: the origin's TLS through
 * the tunnel, and TLS to an `https://` proxy) all wait through {@link confirmTls13}.
 */
import type tls from 'node:tls';
import { TlsError } from '../core/errors.js';

/** How long a TLS 1.3 dial waits at most for the server's first ticket (ms). */
export const TLS13_CONFIRM_GRACE = 1000;

/**
 * Whether the server sent a CertificateRequest in this handshake. Node does not say so directly,
 * but OpenSSL fills a client's shared signature algorithms only from a CertificateRequest (they
 * are the algorithms we could sign our certificate proof with), so the list is empty without one.
 */
function serverAskedForCertificate(socket: tls.TLSSocket): boolean {
  return socket.getSharedSigalgs().length > 0;
}

/**
 * Calls `confirmed` once the server has shown that it accepted the handshake: at once below TLS
 * 1.3 and when the server did not ask for a client certificate. Returns a function that stops
 * waiting. Errors and closes are the caller's to watch.
 */
function awaitTls13Confirmation(socket: tls.TLSSocket, confirmed: () => void, grace = TLS13_CONFIRM_GRACE): () => void {
  if (socket.getProtocol() !== 'TLSv1.3' || !serverAskedForCertificate(socket)) {
    confirmed();
    return () => {};
  }
  let done = false;
  let immediate: NodeJS.Immediate | undefined;
  const finish = (): void => {
    if (done) return;
    stop();
    confirmed();
  };
  // The `session` event runs inside OpenSSL's read: writing from there corrupts the record
  // layer (a bad record MAC), so the hand-over waits for the next turn of the event loop.
  const onSession = (): void => {
    immediate ??= setImmediate(finish);
  };
  const timer = setTimeout(finish, Math.max(0, grace));
  const stop = (): void => {
    done = true;
    clearTimeout(timer);
    if (immediate) clearImmediate(immediate);
    socket.off('session', onSession);
  };
  socket.on('session', onSession);
  return stop;
}

/** Whether TLS options carry a client certificate (which a server may refuse after a TLS 1.3 handshake). */
function offersClientCertificate(options: Pick<tls.ConnectionOptions, 'cert' | 'pfx'>): boolean {
  return options.cert !== undefined || options.pfx !== undefined;
}

/**
 * After `secureConnect`: resolves once the server has shown that it accepted the handshake (see
 * the top of this file), waiting {@link TLS13_CONFIRM_GRACE} ms at most, or `connectTimeout` if shorter. Rejects with `failure(error)` on the socket's
 * error meanwhile (the server's alert: certificate required, unknown CA...), and with
 * `failure()` on a close, or `failure(refusal)` (a {@link TlsError}) when `tlsOptions` offered a
 * certificate: node's servers close without an alert on an untrusted one.
 */
export function confirmTls13(socket: tls.TLSSocket, tlsOptions: Pick<tls.ConnectionOptions, 'cert' | 'pfx'>, connectTimeout: number, failure: (error?: Error) => Error): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      cleanup();
      reject(failure(error));
    };
    const onClose = (): void => {
      cleanup();
      reject(
        failure(
          offersClientCertificate(tlsOptions)
            ? new TlsError('TLS handshake failed: the server closed the connection right after the TLS 1.3 handshake, before accepting it: it refused the client certificate')
            : undefined,
        ),
      );
    };
    let stop = (): void => {};
    const cleanup = (): void => {
      stop();
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    socket.once('error', onError);
    socket.once('close', onClose);
    // Called at once (before `stop` is set) when there is nothing to wait for.
    stop = awaitTls13Confirmation(
      socket,
      () => {
        cleanup();
        resolve();
      },
      Math.min(connectTimeout, TLS13_CONFIRM_GRACE),
    );
  });
}
