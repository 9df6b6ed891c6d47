/**
 * The project's named URLs as typed functions (generated into src/generated/urls.ts):
 * `urls.article_detail({ pk: 1 })` is `/articles/1/`, built from the same format
 * Django's `reverse()` uses, each value checked against its converter's regex.
 * Fetch any of them with `client.fetch(path)`, which carries the client's session,
 * CSRF token or bearer token.
 */

export interface UrlParam {
  type: 'number' | 'string';
  regex: string;
  /** A `<path:...>` converter: slashes are part of the value. */
  slashes: boolean;
}

/** The function for one URL: no argument when the URL takes none. */
export type UrlFunction<P> = [keyof P] extends [never] ? () => string : (params: P) => string;

export function urlFunction<P>(name: string, format: string, params: Record<string, UrlParam>): UrlFunction<P> {
  const checks = Object.entries(params).map(([key, param]) => [key, param, new RegExp(`^(?:${param.regex})$`)] as const);
  const build = (values: Record<string, unknown> = {}): string => {
    let path = format;
    for (const [key, param, regex] of checks) {
      const value = values[key];
      if (value === undefined || value === null) throw new TypeError(`${name}: missing ${key}.`);
      if (param.type === 'number' && !(typeof value === 'number' && Number.isInteger(value))) {
        throw new TypeError(`${name}: ${key} must be an integer, not ${JSON.stringify(value)}.`);
      }
      const text = String(value);
      if (!regex.test(text)) throw new TypeError(`${name}: ${JSON.stringify(text)} does not match ${key} (${param.regex}).`);
      const encoded = param.slashes ? text.split('/').map(encodeURIComponent).join('/') : encodeURIComponent(text);
      path = path.replace(`%(${key})s`, encoded);
    }
    return path;
  };
  return build as UrlFunction<P>;
}
