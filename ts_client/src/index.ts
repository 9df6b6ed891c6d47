/** django-graphql-realtime client: the runtime. Generated models import from here. */
export { Client, configure, createClient, getDefaultClient, type ClientOptions } from './client.js';
export { authenticate, logout, me, refreshToken, tokenAuth, type CurrentUser, type Credentials, type TokenResult } from './auth.js';
export {
  Manager, PrefetchedManager, QuerySet, RelatedManager, defineModel, type GetOrCreateArgs,
  type Instance, type Model, type PK, type Prefetched, type Related, type RowError, type ScopeMethods, type Scoped,
  type ScopedManager, type UpdateOrCreateArgs, type WithRelated,
} from './queryset.js';
export { Q, type Condition } from './q.js';
export { backoff, isRetryable, Live, RETRYABLE_CODES, type LiveHandlers, type LiveOptions, type LiveStatus, type LiveSubscription } from './live.js';
export {
  Avg, Count, GroupedQuerySet, Max, Min, StdDev, Sum, Variance, type Aggregate, type AggregateFunction,
  type AggregateResult, type AggregateSpec, type GroupKey,
} from './aggregates.js';
export { compileKwargs, compileOrder, type Document } from './compile.js';
export {
  DoesNotExist, GraphQLRequestError, LookupError, MultipleObjectsReturned, ValidationError,
  type ChangeEvent, type ChangeOp, type FieldError, type GraphQLErrorShape,
} from './protocol.js';
export type {
  Entries, Kwargs, LookupSpec, ModelMeta, ModelTypes, Nullable, OrderBy, OwnEntries, PrefixValues, SchemaMeta, Span,
} from './types.js';
export { defineTask, FINAL_STATES, TaskFailed, TaskRunHandle, type Task, type TaskRunState, type TaskSpec, type TaskState } from './tasks.js';
export { urlFunction, type UrlFunction, type UrlParam } from './urls.js';
export { defineOperation, type CallOptions, type Operation, type OperationSpec } from './operations.js';
