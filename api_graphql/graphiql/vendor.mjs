// Copy the UMD builds GraphiQL needs into the Django static folder, so the browser
// loads them from our server and never from a CDN.
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const target = join(here, "..", "static", "api_graphql", "graphiql", "vendor");
const files = {
  "graphiql/graphiql.min.js": "graphiql.min.js",
  "graphiql/graphiql.min.css": "graphiql.min.css",
  "graphql-ws/umd/graphql-ws.min.js": "graphql-ws.min.js",
  "react/umd/react.production.min.js": "react.production.min.js",
  "react-dom/umd/react-dom.production.min.js": "react-dom.production.min.js",
};
mkdirSync(target, { recursive: true });
for (const [source, name] of Object.entries(files)) {
  copyFileSync(join(here, "node_modules", source), join(target, name));
}
console.log(`GraphiQL assets copied to ${target}`);
