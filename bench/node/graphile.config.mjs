// PostGraphile 5 peer: the amber preset over the benchmark's PostgreSQL database,
// nothing tuned. Environment: DATABASE_URL, PORT (set by bench/lib/servers.py).
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset],
  // Like ours, allow filtering and ordering on any column (V5 otherwise offers
  // only indexed ones; `published` and `created_at` have no index).
  disablePlugins: ["PgIndexBehaviorsPlugin"],
  pgServices: [
    makePgService({
      connectionString: process.env.DATABASE_URL,
      schemas: ["public"],
    }),
  ],
  grafserv: {
    host: "127.0.0.1",
    port: Number(process.env.PORT || 5678),
    graphiql: false,
  },
  grafast: { explain: false },
};

export default preset;
