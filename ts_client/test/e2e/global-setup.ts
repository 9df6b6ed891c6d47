/** One fresh database and one daphne for every e2e test file of the run. */
import type { TestProject } from 'vitest/node';
import { prepareDatabase, startDaphne } from './server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    graphqlUrl: string;
    /** Articles up to this id are the seed's: tests that count rows stay on them. */
    lastSeededArticle: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const lastSeededArticle = await prepareDatabase();
  const daphne = await startDaphne();
  project.provide('graphqlUrl', daphne.url);
  project.provide('lastSeededArticle', lastSeededArticle);
  return () => daphne.stop();
}
