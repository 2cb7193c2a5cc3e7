/**
 * The browser project's global setup (Node): nothing to start (each test starts its own origins
 * through commands); the teardown closes any origin a failed test left behind.
 */
import { closeAllOrigins } from './origins.js';

export default function setup(): () => Promise<void> {
  return closeAllOrigins;
}
