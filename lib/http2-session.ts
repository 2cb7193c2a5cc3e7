// Placeholder while the HTTP/2 session is written (issue 3).
import { UnsupportedError } from './errors.js';
import type { SessionFactory } from './session.js';

export const createHttp2Session: SessionFactory = () => {
  throw new UnsupportedError('HTTP/2 is not implemented yet');
};
