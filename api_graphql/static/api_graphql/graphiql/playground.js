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

  var fetcher = GraphiQL.createFetcher({
    url: endpoint,
    wsClient: wsClient,
    fetch: function (url, init) {
      init = init || {};
      init.credentials = "same-origin";
      init.headers = Object.assign({}, init.headers, { "X-CSRFToken": cookie("csrftoken") });
      return window.fetch(url, init);
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
