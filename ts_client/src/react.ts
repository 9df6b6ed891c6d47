/**
 * `django-graphql-realtime-client/react`: hooks over the live QuerySet.
 *
 * - `useQuerySet(qs)`: the rows of a query, kept equal to it as changes commit
 *   (`qs.live()`), with `loading`, `refreshing`, `error` and the socket's `status`.
 * - `useObject(Article.objects, {pk})`: one row, live; `DoesNotExist` once it is gone.
 * - `useMutation(fn)`, `useCreate`/`useUpdate`/`useDelete(manager)`: a write for a
 *   form: `run`, `pending`, Django's field errors by field name, other failures.
 * - `useCurrentUser(client)`: who is logged in, read again on every login or logout.
 *
 * Nothing here suspends or throws into an error boundary: every state is a value
 * the component renders. A query is identified by its GraphQL and its client, so
 * building the queryset inline in render (`useQuerySet(Article.objects.filter(...))`)
 * keeps one live result until the query itself changes. React is an optional peer
 * dependency: only this entry imports it.
 */
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { me, type CurrentUser } from './auth.js';
import { getDefaultClient, type Client } from './client.js';
import type { LiveQueryOptions, LiveQuerySet, LiveSnapshot } from './live_queryset.js';
import { DoesNotExist, MultipleObjectsReturned, ValidationError, type ChangeEvent } from './protocol.js';
import type { Instance, Manager, PK, QuerySet } from './queryset.js';
import type { ModelTypes } from './types.js';

/** What `useQuerySet` renders: the live snapshot, and a way to read the rows again. */
export interface QuerySetState<Row> extends LiveSnapshot<Row> {
  /** Read the window again now (a "refresh" button); live results need it rarely. */
  refresh(): Promise<void>;
}

export interface UseQuerySetOptions<Row> {
  /** Every change applied to the rows, in order (e.g. to highlight the row that changed). */
  onEvent?(event: ChangeEvent<Row>): void;
  /** Rows held past the window, so a row that leaves is replaced without a read. */
  spare?: number;
}

/** Anything with `live()`: a QuerySet, whatever its row type. */
interface Liveable<Row> {
  live(options?: LiveQueryOptions<Row>): LiveQuerySet<Row>;
}

/** The rows' type of a queryset: `type Row = RowOf<typeof latest>` (after values(), select_related...). */
export type RowOf<Q> = Q extends Liveable<infer Row> ? Row : never;

const IDLE: LiveSnapshot<never> = { rows: [], loading: false, refreshing: false, error: null, status: 'idle' };
const noop = (): void => {};

/** The latest value in a ref, so callbacks passed inline never restart anything. */
function useLatest<V>(value: V): { readonly current: V } {
  const ref = useRef(value);
  useEffect(() => {
    ref.current = value;
  });
  return ref;
}

/**
 * A live result as React state (`useSyncExternalStore`): subscribed while the
 * component is mounted; a second mount within a tick (StrictMode) reuses it.
 */
export function useLive<Row>(live: LiveQuerySet<Row> | null): LiveSnapshot<Row> {
  const subscribe = useCallback(
    (notify: () => void) => (live ? live.subscribe(() => notify()) : noop),
    [live],
  );
  const current = (): LiveSnapshot<Row> => live?.value ?? IDLE;
  return useSyncExternalStore(subscribe, current, current);
}

/**
 * The rows of `qs`, live: `const {rows, loading, error} = useQuerySet(Article.objects.filter({published: true}).order_by('-created_at').limit(10))`.
 * `null` runs nothing (a query that waits for something): no rows, not loading.
 */
export function useQuerySet<Row>(qs: Liveable<Row> | null, options: UseQuerySetOptions<Row> = {}): QuerySetState<Row> {
  const onEvent = useLatest(options.onEvent);
  const spare = options.spare;
  const fresh = qs?.live({ spare, onEvent: (event) => onEvent.current?.(event) }) ?? null;
  const key = fresh === null ? null : `${spare ?? ''}|${fresh.key}`;
  // One live result per query: a queryset rebuilt by every render is the same query.
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const live = useMemo(() => fresh, [key]);
  const snapshot = useLive(live);
  const refresh = useCallback(() => live?.refresh() ?? Promise.resolve(), [live]);
  return useMemo(() => ({ ...snapshot, refresh }), [snapshot, refresh]);
}

/** What `useObject` renders. */
export interface ObjectState<Row> {
  /** The row; null while loading, when it does not exist, or when several match. */
  readonly object: Row | null;
  readonly loading: boolean;
  /** `DoesNotExist` (none, or deleted meanwhile), `MultipleObjectsReturned`, or a failed read. */
  readonly error: unknown;
  readonly status: LiveSnapshot<Row>['status'];
  refresh(): Promise<void>;
}

/** A manager or a queryset: what `useObject` filters. */
interface Filterable<T extends ModelTypes, Row> {
  filter(kwargs: T['kwargs']): QuerySet<T, Row>;
  all(): QuerySet<T, Row>;
}

/**
 * One row, live, like Django's `get()`: `useObject(Article.objects, {pk: id})`.
 * Without kwargs the source itself must match one row; `null` kwargs run nothing
 * (e.g. no row chosen yet).
 */
export function useObject<T extends ModelTypes, Row = Instance<T>>(
  source: Filterable<T, Row> | Manager<T>,
  kwargs?: T['kwargs'] | null,
): ObjectState<Row> {
  const from = source as Filterable<T, Row>;
  const all = from.all();
  const qs = kwargs === null ? null : (kwargs === undefined ? all : all.filter(kwargs)).limit(2);
  const state = useQuerySet(qs);
  const model = all.model.name;
  return useMemo(() => {
    const { rows, loading, error, status, refresh } = state;
    let refused: unknown = error;
    if (!loading && !error && qs !== null) {
      if (rows.length === 0) refused = new DoesNotExist(model);
      else if (rows.length > 1) refused = new MultipleObjectsReturned(model);
    }
    return { object: rows.length === 1 && !refused ? rows[0]! : null, loading, error: refused, status, refresh };
    // The errors are built from the snapshot, so they change only when it does.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [state, model, qs === null]);
}

/** Django's `message_dict`: messages by field name, `__all__` for the model's own. */
export type FieldErrors<F extends string = string> = Partial<Record<F | '__all__', string[]>>;

/** What `useMutation` renders. */
export interface MutationState<A extends unknown[], R, F extends string = string> {
  /**
   * Run the write. Resolves with its result, or with undefined when it failed:
   * the failure is in `fieldErrors` (a ValidationError) or `error` (anything else),
   * so a form's `onSubmit` never leaves an unhandled rejection.
   */
  run(...args: A): Promise<R | undefined>;
  readonly pending: boolean;
  /** The last successful result. */
  readonly result: R | undefined;
  /** Django's validation errors of the last run, by field; empty when it passed. */
  readonly fieldErrors: FieldErrors<F>;
  /** A failure that is not a validation error (permission, network); null otherwise. */
  readonly error: unknown;
  /** Forget the last run's result and errors (e.g. when the form is reset). */
  reset(): void;
}

interface MutationSnapshot<R, F extends string> {
  pending: boolean;
  result: R | undefined;
  fieldErrors: FieldErrors<F>;
  error: unknown;
}

const NO_ERRORS = Object.freeze({});

/**
 * Any write as form state: `const save = useMutation((data) => Article.objects.update(pk, data))`.
 * When runs overlap, the state shows the last one started.
 */
export function useMutation<A extends unknown[], R, F extends string = string>(
  write: (...args: A) => Promise<R>,
): MutationState<A, R, F> {
  const latest = useLatest(write);
  const runs = useRef(0);
  const [state, setState] = useState<MutationSnapshot<R, F>>({
    pending: false, result: undefined, fieldErrors: NO_ERRORS, error: null,
  });
  const run = useCallback(async (...args: A): Promise<R | undefined> => {
    const id = (runs.current += 1);
    setState((s) => ({ ...s, pending: true }));
    try {
      const result = await latest.current(...args);
      if (id === runs.current) setState({ pending: false, result, fieldErrors: NO_ERRORS, error: null });
      return result;
    } catch (error) {
      if (id === runs.current) {
        const fields = error instanceof ValidationError ? (error.fields as FieldErrors<F>) : NO_ERRORS;
        setState((s) => ({
          pending: false, result: s.result, fieldErrors: fields,
          error: error instanceof ValidationError ? null : error,
        }));
      }
      return undefined;
    }
  }, [latest]);
  const reset = useCallback(() => {
    runs.current += 1;
    setState({ pending: false, result: undefined, fieldErrors: NO_ERRORS, error: null });
  }, []);
  return useMemo(() => ({ ...state, run, reset }), [state, run, reset]);
}

type FieldsOf<D> = Extract<keyof D, string>;

/** `Model.objects.create` as form state; field errors are keyed by the input's fields. */
export function useCreate<T extends ModelTypes>(manager: Manager<T>): MutationState<[T['create']], Instance<T>, FieldsOf<T['create']>> {
  return useMutation((data: T['create']) => manager.create(data));
}

/** `Model.objects.update(pk, data)` as form state. */
export function useUpdate<T extends ModelTypes>(manager: Manager<T>): MutationState<[PK, T['update']], Instance<T>, FieldsOf<T['update']>> {
  return useMutation((pk: PK, data: T['update']) => manager.update(pk, data));
}

/** `Model.objects.delete(pk)` as form state. */
export function useDelete<T extends ModelTypes>(manager: Manager<T>): MutationState<[PK], Instance<T>> {
  return useMutation((pk: PK) => manager.delete(pk));
}

/** What `useCurrentUser` renders. */
export interface CurrentUserState {
  /** The logged-in user, or null when anonymous (or not read yet). */
  readonly user: CurrentUser | null;
  readonly loading: boolean;
  readonly error: unknown;
}

/**
 * Who is logged in on `client` (the default client when omitted), read once and
 * again after every identity change (`authenticate`, `logout`, a new token).
 */
export function useCurrentUser(client?: Client): CurrentUserState {
  const [state, setState] = useState<CurrentUserState>({ user: null, loading: true, error: null });
  useEffect(() => {
    const target = client ?? getDefaultClient();
    let reads = 0;
    const read = (): void => {
      const id = (reads += 1);
      setState((s) => ({ ...s, loading: true }));
      me(target).then(
        (user) => id === reads && setState({ user, loading: false, error: null }),
        (error: unknown) => id === reads && setState({ user: null, loading: false, error }),
      );
    };
    read();
    const stop = target.onIdentityChange(read);
    return () => {
      reads += 1; // answers still on their way are for nobody
      stop();
    };
  }, [client]);
  return state;
}
