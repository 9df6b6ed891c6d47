/**
 * The server's tests send tests/snapshots/introspection_query.graphql as "what
 * GraphiQL, graphql-codegen, Apollo and Postman send": it must stay graphql-js' own.
 */
import { readFileSync } from 'node:fs';
import { getIntrospectionQuery } from 'graphql';
import { expect, it } from 'vitest';

it('the server tests introspect with graphql-js getIntrospectionQuery, every option on', () => {
  const copy = readFileSync('../tests/snapshots/introspection_query.graphql', 'utf8');
  const body = copy.split('\n').filter((line) => !line.startsWith('#')).join('\n').trim();
  const current = getIntrospectionQuery({
    descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true,
    inputValueDeprecation: true, oneOf: true,
  }).trim();
  expect(body).toBe(current);
});
