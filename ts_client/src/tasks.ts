/**
 * Celery tasks registered on the server (`api_graphql.register_task`), started from
 * TypeScript: `const run = await tasks.send_welcome_email.delay(userId, 'welcome')`.
 *
 * A start is the mutation `start_<task>`; it answers with the run's record (a
 * `TaskRun` row, PENDING). The run is then watched through `task_run_changes`,
 * the same live pipeline as any model: `progress()` yields each state the run goes
 * through until its last, `result()` resolves with its JSON result or rejects with
 * a `TaskFailed` (FAILURE, REVOKED). Runs are also rows: `TaskRun.objects.filter()`.
 */
import { getDefaultClient, type Client } from './client.js';
import type { ChangeEvent } from './protocol.js';

export type TaskState = 'PENDING' | 'STARTED' | 'PROGRESS' | 'RETRY' | 'SUCCESS' | 'FAILURE' | 'REVOKED';
/** States after which a run changes no more. */
export const FINAL_STATES: ReadonlySet<TaskState> = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);

/** A run as the server records it (the traceback stays on the server). */
export interface TaskRunState {
  id: string;
  task_id: string;
  task_name: string;
  state: TaskState;
  /** From the task's `update_state(state='PROGRESS', meta={current, total, message})`. */
  current: number | null;
  total: number | null;
  message: string;
  /** The task's return value (SUCCESS). */
  result: unknown;
  /** `ExceptionClass: message` (FAILURE, RETRY), or why it was revoked. */
  error: string;
  /** The arguments it was started with, secrets left out. */
  arguments: Record<string, unknown>;
  retries: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  updated_at: string;
}

const RUN_FIELDS = 'id task_id task_name state current total message result error arguments retries '
  + 'created_at started_at finished_at updated_at';

/** How often `progress()` reads the run again besides its events. */
const REREAD_MS = 3000;

/** `result()` of a run that failed or was revoked. */
export class TaskFailed extends Error {
  readonly run: TaskRunState;
  constructor(run: TaskRunState) {
    super(run.error || `${run.task_name} ended ${run.state}`);
    this.name = run.state === 'REVOKED' ? 'TaskRevoked' : 'TaskFailed';
    this.run = run;
  }
  get state(): TaskState {
    return this.run.state;
  }
}

/** One started task. */
export class TaskRunHandle<Result = unknown> {
  /** The latest state this handle has seen. */
  last: TaskRunState;
  private readonly client: Client;

  constructor(client: Client, state: TaskRunState) {
    this.client = client;
    this.last = state;
  }

  get id(): string {
    return this.last.id;
  }

  get state(): TaskState {
    return this.last.state;
  }

  get done(): boolean {
    return FINAL_STATES.has(this.last.state);
  }

  /** Read the run again over HTTP. */
  async refresh(): Promise<TaskRunState> {
    const state = await this.read();
    if (state) this.observe(state);
    return this.last;
  }

  /** The run as the server has it now, not yet observed (null: no longer readable). */
  private async read(): Promise<TaskRunState | null> {
    const data = await this.client.request<{ task_run_status: TaskRunState | null }>(
      `query($pk: ID!) { task_run_status(pk: $pk) { ${RUN_FIELDS} } }`, { pk: this.id });
    return data.task_run_status;
  }

  /**
   * Each new state of the run, in order, up to and including its last one (a run
   * already finished yields that once). Consecutive changes the server commits
   * faster than it delivers them may arrive as one state: each event carries the
   * row as it is when sent.
   */
  progress(): AsyncIterableIterator<TaskRunState> {
    const queue: TaskRunState[] = [];
    let wake: (() => void) | null = null;
    let failure: { error: unknown } | null = null;
    let ended = false;
    // A run that already ended yields its last state once.
    if (this.done) queue.push(this.last);
    const push = (state: TaskRunState | null | undefined) => {
      if (state && this.observe(state)) queue.push(state);
      wake?.();
      wake = null;
    };
    const subscription = this.client.live.subscribe<TaskRunState>(
      {
        query: `subscription($f: TaskRunFilter, $after: String) { task_run_changes(filters: $f, after: $after) `
          + `{ op cursor pk changed_fields node { ${RUN_FIELDS} } } }`,
        variables: { f: { id: { exact: this.id } } },
      },
      'task_run_changes',
      {
        onEvent: (event: ChangeEvent<TaskRunState>) => {
          if (event.op === 'READY' || event.op === 'RESYNC') {
            // From now on nothing is missed; what happened before is read once.
            // read(), not refresh(): a state this read is the first to see (the run
            // may already have ended) must reach the queue, not only `last`.
            this.read().then((state) => push(state), (error: unknown) => {
              failure = { error };
              push(null);
            });
          } else {
            push(event.node);
          }
        },
        onError: (error) => {
          failure = { error };
          push(null);
        },
      },
    );
    // A safety net, not the path: re-read now and then while the run is not over, so a
    // server whose read cache lags its change stream (the embedded setup, where other
    // processes' writes are seen at the outbox poll) cannot leave us waiting forever.
    const reread = setInterval(() => {
      this.read().then((state) => push(state), () => undefined);
    }, REREAD_MS);
    const finish = () => {
      ended = true;
      clearInterval(reread);
      subscription.unsubscribe();
    };
    const iterator: AsyncIterableIterator<TaskRunState> = {
      [Symbol.asyncIterator]: () => iterator,
      next: async () => {
        while (!ended) {
          const state = queue.shift();
          if (state) {
            if (FINAL_STATES.has(state.state)) finish();
            return { done: false, value: state };
          }
          if (failure) {
            finish();
            throw failure.error;
          }
          await new Promise<void>((resolve) => (wake = resolve));
        }
        return { done: true, value: undefined };
      },
      return: async () => {
        finish();
        return { done: true, value: undefined };
      },
    };
    return iterator;
  }

  /** The task's result; rejects with `TaskFailed` when it fails or is revoked. */
  async result(): Promise<Result> {
    if (!this.done) {
      for await (const state of this.progress()) void state;
    }
    if (this.last.state !== 'SUCCESS') throw new TaskFailed(this.last);
    return this.last.result as Result;
  }

  /** Stop the run: a queued task never starts, a running one is terminated. */
  async revoke(): Promise<TaskRunState> {
    const data = await this.client.request<{ revoke_task_run: TaskRunState }>(
      `mutation($pk: ID!) { revoke_task_run(pk: $pk) { ${RUN_FIELDS} } }`, { pk: this.id });
    this.observe(data.revoke_task_run);
    return this.last;
  }

  /** Keep `state` if it is newer than what we have (the server's `updated_at`, an
   * ISO time in UTC, orders them); whether it was. */
  private observe(state: TaskRunState): boolean {
    if (state.updated_at <= this.last.updated_at) return false;
    this.last = state;
    return true;
  }
}

/** What the generator writes per registered task (see src/generated/tasks.ts). */
export interface TaskSpec {
  /** The start mutation, `start_<task>`. */
  mutation: string;
  /** Argument names in the task function's order, with their GraphQL types. */
  params: ReadonlyArray<readonly [name: string, type: string]>;
}

export interface Task<Args extends unknown[], Result> {
  readonly name: string;
  /** Start the task with positional arguments, as `task.delay()` in Python. */
  delay(...args: Args): Promise<TaskRunHandle<Result>>;
  /** The same task started through another client (another user, another server). */
  using(client: Client): Task<Args, Result>;
}

export function defineTask<Args extends unknown[], Result = unknown>(
  spec: TaskSpec, client?: Client,
): Task<Args, Result> {
  const name = spec.mutation.replace(/^start_/, '');
  return {
    name,
    using: (other) => defineTask<Args, Result>(spec, other),
    async delay(...args: Args): Promise<TaskRunHandle<Result>> {
      const c = client ?? getDefaultClient();
      // Only the arguments given: the server applies the function's defaults.
      const given = spec.params.map(([param, type], i) => [param, type, args[i]] as const)
        .filter(([, , value]) => value !== undefined);
      const declared = given.map(([param, type]) => `$${param}: ${type}`).join(', ');
      const passed = given.map(([param]) => `${param}: $${param}`).join(', ');
      const query = `mutation${declared ? `(${declared})` : ''} { ${spec.mutation}${passed ? `(${passed})` : ''} `
        + `{ ${RUN_FIELDS} } }`;
      const data = await c.request<Record<string, TaskRunState>>(
        query, Object.fromEntries(given.map(([param, , value]) => [param, value])));
      return new TaskRunHandle<Result>(c, data[spec.mutation]!);
    },
  };
}
