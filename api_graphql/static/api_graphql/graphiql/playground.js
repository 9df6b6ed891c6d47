// GraphiQL wired to this server: queries and mutations over HTTP with Django's
// session and CSRF token, subscriptions over the graphql-transport-ws socket.
(function () {
  "use strict";
  var root = document.getElementById("graphiql");
  var endpoint = root.getAttribute("data-endpoint") || "/graphql";

  function cookie(name) {
    var match = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return match ? decodeURIComponent(match[1]) : "";
  }

  var socketUrl = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + endpoint;
  var wsClient = graphqlWs.createClient({ url: socketUrl, lazy: true, retryAttempts: 20 });

  // Files: GraphiQL's editors hold text only, so the bar above it holds a file and
  // the variable it is for ("data.cover"). An operation that declares that variable
  // ($data) is sent as a GraphQL multipart request (the spec Apollo and urql speak):
  // the variable is null in "operations", and "map" puts the file there.
  var fileInput = document.getElementById("upload-file");
  var pathInput = document.getElementById("upload-path");

  function setPath(target, path, value) {
    var keys = path.split(".");
    var node = target;
    for (var i = 0; i < keys.length - 1; i += 1) {
      if (node[keys[i]] === null || typeof node[keys[i]] !== "object") node[keys[i]] = {};
      node = node[keys[i]];
    }
    node[keys[keys.length - 1]] = value;
  }

  function withFile(init) {
    var file = fileInput && fileInput.files && fileInput.files[0];
    var path = pathInput ? pathInput.value.trim() : "";
    if (!file || !path || typeof init.body !== "string") return init;
    var operation = JSON.parse(init.body);
    var declared = new RegExp("\\$" + path.split(".")[0] + "\\s*:");
    if (!declared.test(operation.query || "")) return init;
    operation.variables = operation.variables || {};
    setPath(operation.variables, path, null);
    var form = new FormData();
    form.append("operations", JSON.stringify(operation));
    form.append("map", JSON.stringify({ 0: ["variables." + path] }));
    form.append("0", file, file.name);
    var headers = Object.assign({}, init.headers);
    // The browser writes the multipart Content-Type with its boundary.
    Object.keys(headers).forEach(function (name) {
      if (name.toLowerCase() === "content-type") delete headers[name];
    });
    return Object.assign({}, init, { body: form, headers: headers });
  }

  var fetcher = GraphiQL.createFetcher({
    url: endpoint,
    wsClient: wsClient,
    fetch: function (url, init) {
      init = init || {};
      init.credentials = "same-origin";
      init.headers = Object.assign({}, init.headers, { "X-CSRFToken": cookie("csrftoken") });
      return window.fetch(url, withFile(init));
    },
  });

  var defaultQuery = [
    "# Welcome to the GraphQL API of this Django project.",
    "# Field names are Django names; press Ctrl-Space for completion,",
    "# and open the Docs panel (the book icon) to browse every type.",
    "",
    "{",
    "  me { username }",
    "}",
    "",
  ].join("\n");

  ReactDOM.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      // The full standard introspection query (as graphql-codegen and Postman send it).
      inputValueDeprecation: true,
      schemaDescription: true,
    }),
    root
  );
})();
