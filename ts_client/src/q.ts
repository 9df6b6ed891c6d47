/**
 * Django's `Q` objects: conditions combined with OR, AND and NOT. TypeScript has
 * no `|`, `&` or `~` on objects, so they are methods:
 * `Article.Q({title__icontains: 'django'}).or({author__username: 'ada'}).not()`.
 * A Q belongs to one model (its keywords are that model's lookups): a Q of another
 * model is a compile error.
 */
import { compileKwargs, type FilterInput } from './compile.js';
import type { ModelMeta, ModelTypes, SchemaMeta } from './types.js';

type Node =
  | { readonly kind: 'kwargs'; readonly kwargs: object }
  | { readonly kind: 'AND' | 'OR'; readonly children: readonly Node[] }
  | { readonly kind: 'NOT'; readonly child: Node };

/** Keywords or a Q: what filter(), exclude(), get() and Q's methods accept. */
export type Condition<T extends ModelTypes> = T['kwargs'] | Q<T>;

export class Q<T extends ModelTypes> {
  /** The model the keywords belong to (types only). */
  declare readonly model: T['name'];

  private constructor(private readonly node: Node) {}

  /** `Q(title__icontains='x')`: prefer the generated `Article.Q(...)`. */
  static of<T extends ModelTypes>(kwargs: T['kwargs']): Q<T> {
    return new Q<T>({ kind: 'kwargs', kwargs: kwargs as object });
  }

  private static nodeOf<T extends ModelTypes>(condition: Condition<T>): Node {
    return condition instanceof Q ? condition.node : { kind: 'kwargs', kwargs: condition as object };
  }

  /** `a | b | ...` */
  or(...others: Condition<T>[]): Q<T> {
    return new Q<T>({ kind: 'OR', children: [this.node, ...others.map((o) => Q.nodeOf(o))] });
  }

  /** `a & b & ...` */
  and(...others: Condition<T>[]): Q<T> {
    return new Q<T>({ kind: 'AND', children: [this.node, ...others.map((o) => Q.nodeOf(o))] });
  }

  /** `~a` */
  not(): Q<T> {
    return new Q<T>({ kind: 'NOT', child: this.node });
  }

  /** The GraphQL filter input for this condition. */
  compile(schema: SchemaMeta, model: ModelMeta): FilterInput {
    const walk = (node: Node): FilterInput => {
      switch (node.kind) {
        case 'kwargs':
          return compileKwargs(schema, model, node.kwargs);
        case 'NOT':
          return { NOT: walk(node.child) };
        default:
          return { [node.kind]: node.children.map(walk) };
      }
    };
    return walk(this.node);
  }
}

/** Several conditions as one filter: ANDed, as Django's `filter(Q(...), Q(...), **kwargs)`. */
export function compileConditions<T extends ModelTypes>(schema: SchemaMeta, model: ModelMeta,
  conditions: readonly Condition<T>[]): FilterInput {
  const inputs = conditions.map((c) => (c instanceof Q ? c.compile(schema, model) : compileKwargs(schema, model, c as object)));
  return inputs.length === 1 ? inputs[0]! : { AND: inputs };
}
