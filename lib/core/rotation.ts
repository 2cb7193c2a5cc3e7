/**
 * Rotations: a server's planned close (`connection: close`, GOAWAY(NO_ERROR), an idle close) of a
 * connection that was working is not an outage: the replacement is dialled at once, without
 * backoff and without spending the retry budget. What the lifecycle keeps of each session to
 * decide it, and the rule itself.
 */
import { ConnectionDownError } from './errors.js';
import type { RxconnError } from './errors.js';
import type { GoawayInfo, Intermediary } from './events.js';
import type { Session, UpgradeOwner } from './session.js';

/** How long a connection must stay up, without a complete response, to count as a success for the retry budget, in ms. */
export const PROVEN_AFTER = 1_000;

/**
 * Planned closes in a row of sessions that neither served a stream nor lived PROVEN_AFTER ms and
 * still count as rotations: one landing on a just-replaced connection (nginx reloading right after a
 * rotation). More in a row are a server that accepts and closes: failures, with backoff.
 */
export const MAX_HASTY_ROTATIONS = 2;

/** The current session's planned close, on a connection that proved itself: dial the replacement at once. */
export class RotationError extends ConnectionDownError {}

/** What the lifecycle keeps of each session until it closes. */
export interface HeldSession {
  readonly session: Session;
  /** When it was adopted (scheduler time). */
  readonly adoptedAt: number;
  /** The proxies it was dialled through (see `info()`). */
  readonly intermediaries: readonly Intermediary[] | undefined;
  /** Responses it completed. */
  completions: number;
  /** Asked to shut down. */
  shut: boolean;
  /** Its socket was handed to an upgrade, and speaks this protocol now. */
  upgradedTo: string | undefined;
  /** Who holds the upgraded socket, when it asked to be told of the connection's shutdown and of the socket's close. */
  owner: UpgradeOwner | undefined;
}

/** The loss of an adopted session: what the reconnect loop is told, and what its `disconnected` event says. */
export class SessionLoss {
  constructor(
    readonly session: Session,
    readonly error: RxconnError,
    readonly goaway: GoawayInfo | undefined,
    /** Active streams its close took down (none for a planned close, whose streams may finish). */
    readonly killedStreams: number,
    /** Its socket was a WebSocket's. */
    readonly upgraded: boolean,
  ) {}
}

/**
 * A planned close of a session that served streams or lived PROVEN_AFTER ms is a rotation; so
 * are the first {@link MAX_HASTY_ROTATIONS} in a row of sessions that did neither. After that (a
 * server that accepts and closes at once) it is an ordinary failure, with backoff. A GOAWAY with
 * an error code is never a rotation.
 */
export class RotationRule {
  #hasty = 0;

  /** Whether the planned close of a session that `lived` PROVEN_AFTER ms or `served` streams is a rotation. */
  isRotation(goaway: GoawayInfo | undefined, lived: boolean, served: boolean): boolean {
    if (goaway && goaway.errorCode !== 0) return false;
    if (lived || served) {
      this.#hasty = 0;
      return true;
    }
    return ++this.#hasty <= MAX_HASTY_ROTATIONS;
  }

  /** A session proved itself: the hasty count starts over. */
  proved(): void {
    this.#hasty = 0;
  }
}
