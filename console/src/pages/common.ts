/** What every page gets. */
import type { SessionInfo } from '../api.js';
import type { Powers } from '../roles.js';

/** The signed-in session and what it may change. */
export interface PageProps {
  session: SessionInfo;
  powers: Powers;
}
