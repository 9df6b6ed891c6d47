/** One fresh database and one daphne for every e2e test file of the run. */
import type { TestProject } from 'vitest/node';
import { prepareDatabase, startDaphne } from './server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    graphqlUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await prepareDatabase();
  const daphne = await startDaphne();
  project.provide('graphqlUrl', daphne.url);
  return () => daphne.stop();
}
