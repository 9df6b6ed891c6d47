/** The page's one client: same origin as the page, so Django's session cookie and CSRF apply. */
import { createClient } from '../../../ts_client/src/index.js';

export const client = createClient({
  url: new URL('/graphql', location.href).href,
  // A demo page: retry often (the default backs off up to 30 s).
  live: { minDelay: 250, maxDelay: 2000 },
});
