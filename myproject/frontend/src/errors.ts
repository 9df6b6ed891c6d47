/** A failure as one line a person can read. */
import { GraphQLRequestError } from '../../../ts_client/src/index.js';

export function describe(error: unknown): string {
  if (error instanceof GraphQLRequestError && error.code === 'FORBIDDEN') return 'You may not do that.';
  if (error instanceof Error) return error.message;
  return String(error);
}
