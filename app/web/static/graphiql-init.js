// Starts GraphiQL against this gateway, with a query that shows a ticket's history.
(function () {
  "use strict";
  var defaultQuery = [
    "# A ticket's timeline: its tickets and its contract's billing events, newest first.",
    "query TicketHistory($id: Int! = 1, $after: String) {",
    "  ticket(id: $id) {",
    "    id",
    "    subject",
    "    customer { firstname lastname }",
    "    contract { id productName maloId }",
    "    history(first: 10, after: $after) {",
    "      totalCount",
    "      openedTicketCount",
    "      isComplete",
    "      warnings { source code message }",
    "      pageInfo { hasNextPage endCursor }",
    "      nodes {",
    "        __typename",
    "        type",
    "        createdAt",
    "        subject",
    "        url",
    "        ... on TicketEvent { channel subChannel status }",
    "        ... on GridMessageEvent { counterpartRole }",
    "      }",
    "    }",
    "  }",
    "}",
    "",
  ].join("\n");
  var fetcher = GraphiQL.createFetcher({ url: "/graphql" });
  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      variables: JSON.stringify({ id: 1 }, null, 2),
      defaultEditorToolsVisibility: true,
    })
  );
})();
