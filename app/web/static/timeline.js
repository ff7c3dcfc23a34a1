// The timeline page: one ticket's merged history, newest first, read page by page from the public
// GraphQL API with Relay cursors. Plain DOM, no framework, no build step, no inline script (CSP).
(function () {
  "use strict";

  var PAGE_SIZE = 20;
  var MAX_INT = 2147483647; // GraphQL's Int
  var QUERY = [
    "query Timeline($id: Int!, $first: Int!, $after: String) {",
    "  ticket(id: $id) {",
    "    id",
    "    subject",
    "    customer { firstname lastname company }",
    "    contract { id productName }",
    "    history(first: $first, after: $after) {",
    "      totalCount",
    "      openedTicketCount",
    "      isComplete",
    "      warnings { source code message }",
    "      pageInfo { hasNextPage endCursor }",
    "      nodes {",
    "        __typename id type createdAt subject url",
    "        ... on TicketEvent { ticketId channel subChannel status }",
    "        ... on GridMessageEvent { counterpartRole }",
    "      }",
    "    }",
    "  }",
    "}",
  ].join("\n");
  var CHANNELS = {
    email: "Email",
    phone: "Phone",
    chat: "Chat",
    portal: "Portal",
    letter: "Letter",
    system: "System",
    walkIn: "Walk-in",
  };
  var EVENTS = {
    GRID_MESSAGE: { key: "gridMessage", label: "Grid message" },
    DELIVERY: { key: "delivery", label: "Delivery" },
  };

  function byId(id) {
    return document.getElementById(id);
  }
  var form = byId("lookup");
  var input = byId("ticket-id");
  var problem = byId("lookup-problem");
  var timeline = byId("timeline");
  var sentinel = byId("sentinel");
  var status = byId("status");
  var more = byId("more");
  var notice = byId("notice");
  var template = byId("entry-template");
  var dateFormat = new Intl.DateTimeFormat(undefined, {
    weekday: "short",
    day: "numeric",
    month: "short",
    year: "numeric",
  });
  var timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

  // The history on screen: { ticketId, after, hasNext, isComplete, loading, failure, controller }.
  var walk = null;

  function loginUrl() {
    var here = window.location.pathname + window.location.search;
    return "/login?next=" + encodeURIComponent(here).replace(/%2F/g, "/");
  }

  function firstError(body) {
    return body && body.errors && body.errors.length ? body.errors[0] : null;
  }

  function graphql(query, variables, signal) {
    return fetch("/graphql", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      credentials: "same-origin",
      body: JSON.stringify({ query: query, variables: variables || {} }),
      signal: signal,
    }).then(
      function (response) {
        if (response.status === 401) {
          window.location.assign(loginUrl());
          return new Promise(function () {}); // the page is going away: render nothing more
        }
        return response
          .json()
          .catch(function () {
            return {};
          })
          .then(function (body) {
            if (response.status === 429) {
              var wait = response.headers.get("Retry-After");
              throw new Error("Too many requests: try again in " + (wait || "a few") + " s.");
            }
            if (!response.ok || !body.data) {
              var error = firstError(body);
              var message = error ? error.message : "The gateway answered " + response.status + ".";
              throw new Error(message);
            }
            return body;
          });
      },
      function (error) {
        if (error.name === "AbortError") throw error;
        throw new Error("The gateway cannot be reached.");
      }
    );
  }

  // "deliveryStartConfirmed" → "Delivery start confirmed"; other text stays as it is.
  function readable(text) {
    if (!text || !/^[a-z]+(?:[A-Z][a-z0-9]*)+$/.test(text)) return text;
    var words = text.replace(/([A-Z])/g, " $1").toLowerCase();
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  function element(tag, className, text) {
    var made = document.createElement(tag);
    if (className) made.className = className;
    if (text !== undefined) made.textContent = text;
    return made;
  }

  function kindOf(node) {
    if (node.type !== "TICKET") {
      return EVENTS[node.type] || { key: "other", label: readable(node.type) };
    }
    var label = CHANNELS[node.channel];
    return label
      ? { key: node.channel, label: label }
      : { key: "other", label: readable(node.channel) || "Ticket" };
  }

  function safeUrl(url) {
    try {
      var parsed = new URL(url, window.location.href);
      return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
    } catch (error) {
      return null;
    }
  }

  function entryFor(node, anchorTicketId) {
    var kind = kindOf(node);
    var entry = template.content.firstElementChild.cloneNode(true);
    entry.dataset.id = node.id;
    entry.classList.add("kind-" + kind.key);
    var marker = entry.querySelector(".marker");
    marker.setAttribute("aria-label", kind.label);
    marker.title = kind.label;
    entry.querySelector("use").setAttribute("href", "#icon-" + kind.key);

    var when = new Date(node.createdAt);
    var time = entry.querySelector("time");
    time.dateTime = node.createdAt;
    time.textContent = dateFormat.format(when) + " · " + timeFormat.format(when);

    var subject = entry.querySelector(".subject");
    var text = readable(node.subject) || "(no subject)";
    subject.classList.toggle("untitled", !node.subject);
    var url = node.url && safeUrl(node.url);
    if (url) {
      var link = element("a", "", text);
      link.href = url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      link.appendChild(element("span", "visually-hidden", " (opens in a new tab)"));
      subject.appendChild(link);
    } else {
      subject.textContent = text;
    }

    var meta = entry.querySelector(".meta");
    meta.appendChild(element("span", "kind", kind.label));
    if (node.subChannel) meta.appendChild(element("span", "", "via " + node.subChannel));
    if (node.counterpartRole) {
      meta.appendChild(element("span", "", "with " + readable(node.counterpartRole).toLowerCase()));
    }

    var badges = entry.querySelector(".badges");
    if (node.type === "TICKET" && node.ticketId === anchorTicketId) {
      entry.classList.add("anchor");
      badges.appendChild(element("span", "badge badge-anchor", "This ticket"));
    }
    if (node.status) {
      badges.appendChild(element("span", "badge status-" + node.status, readable(node.status)));
    }
    return entry;
  }

  function customerName(customer) {
    if (!customer) return "Unknown sender";
    var name = [customer.firstname, customer.lastname].filter(Boolean).join(" ");
    if (name && customer.company) return name + " (" + customer.company + ")";
    return name || customer.company || "Unnamed customer";
  }

  function renderTicket(ticket, history) {
    byId("ticket").hidden = false;
    byId("ticket-number").textContent = "#" + ticket.id;
    byId("ticket-subject").textContent = readable(ticket.subject) || "(no subject)";
    byId("customer").textContent = customerName(ticket.customer);
    var contract = byId("contract");
    contract.textContent = ticket.contract ? ticket.contract.id : "None linked";
    if (ticket.contract && ticket.contract.productName) {
      contract.appendChild(element("span", "aside", ticket.contract.productName));
    }
    byId("total-count").textContent = String(history.totalCount);
    byId("opened-count").textContent = String(history.openedTicketCount);
    document.title = "Ticket " + ticket.id + " · Timeline · history-gateway";

    byId("incomplete").hidden = history.isComplete;
    byId("warnings").replaceChildren.apply(
      byId("warnings"),
      history.warnings.map(function (warning) {
        return element("li", "", warning.message);
      })
    );
  }

  function renderFooter() {
    more.hidden = true;
    if (!walk) {
      status.textContent = "";
    } else if (walk.loading) {
      status.textContent = "Loading…";
    } else if (walk.failure) {
      status.textContent = walk.failure.message;
      more.textContent = "Retry";
      more.hidden = !walk.failure.retryable;
    } else if (walk.hasNext) {
      status.textContent = "";
      more.textContent = "Load older entries";
      more.hidden = false;
    } else {
      var count = timeline.children.length;
      var entries = count === 1 ? "1 entry" : count + " entries";
      // While billing is missing, the end of the list is not the end of the history.
      status.textContent = walk.isComplete
        ? "That is the whole history: " + entries + "."
        : "That is all the helpdesk has: " + entries + ". Billing events are missing; " +
          "reload when billing answers again.";
    }
    status.parentNode.classList.toggle("failed", Boolean(walk && walk.failure));
    timeline.setAttribute("aria-busy", walk && walk.loading ? "true" : "false");
  }

  function setNotice(text) {
    notice.textContent = text || "";
    notice.hidden = !text;
  }

  var observer = new IntersectionObserver(
    function (entries) {
      if (entries[entries.length - 1].isIntersecting) loadNext();
    },
    { rootMargin: "0px 0px 200px 0px" }
  );

  function show(ticketId, why) {
    if (walk) walk.controller.abort();
    walk = {
      ticketId: ticketId,
      after: null,
      hasNext: true,
      isComplete: null,
      loading: false,
      failure: null,
      controller: new AbortController(),
    };
    observer.unobserve(sentinel);
    timeline.replaceChildren();
    byId("hint").hidden = true;
    byId("ticket").hidden = true;
    byId("incomplete").hidden = true;
    setNotice(why);
    loadNext();
  }

  function loadNext() {
    var current = walk;
    // After a failure only the Retry button goes on, not every scroll.
    if (!current || current.loading || current.failure || !current.hasNext) return;
    current.loading = true;
    renderFooter();
    graphql(
      QUERY,
      { id: current.ticketId, first: PAGE_SIZE, after: current.after },
      current.controller.signal
    )
      .then(function (body) {
        if (current !== walk) return;
        var ticket = body.data.ticket;
        if (!ticket) {
          var error = firstError(body);
          var missing = error && error.extensions && error.extensions.code === "NOT_FOUND";
          current.loading = false;
          current.failure = missing
            ? { message: "There is no ticket " + current.ticketId + ".", retryable: false }
            : { message: error ? error.message : "The ticket could not be read.", retryable: true };
          renderFooter();
          return;
        }
        var history = ticket.history;
        if (current.after !== null && history.isComplete !== current.isComplete) {
          // Cursors of a walk that started while billing was missing are not repaired when it
          // returns (and vice versa): the documented remedy is to start again from the top.
          show(
            current.ticketId,
            history.isComplete
              ? "Billing data is back: the timeline was reloaded from the newest entry."
              : "Billing data became unavailable: the timeline was reloaded from the newest entry."
          );
          return;
        }
        renderTicket(ticket, history);
        history.nodes.forEach(function (node) {
          timeline.appendChild(entryFor(node, ticket.id));
        });
        current.loading = false;
        current.isComplete = history.isComplete;
        current.after = history.pageInfo.endCursor;
        current.hasNext = history.pageInfo.hasNextPage;
        renderFooter();
        // Observing anew reports the sentinel's current state, so a page too short to push it
        // out of view loads the next one at once.
        observer.unobserve(sentinel);
        if (current.hasNext) observer.observe(sentinel);
      })
      .catch(function (error) {
        if (current !== walk || error.name === "AbortError") return;
        current.loading = false;
        current.failure = { message: error.message, retryable: true };
        renderFooter();
      });
  }

  function ticketIdOf(text) {
    var trimmed = (text || "").trim();
    if (!/^[0-9]{1,10}$/.test(trimmed)) return null;
    var id = Number(trimmed);
    return id >= 1 && id <= MAX_INT ? id : null;
  }

  function setProblem(text) {
    problem.textContent = text || "";
    problem.hidden = !text;
    input.setAttribute("aria-invalid", text ? "true" : "false");
  }

  function reset() {
    if (walk) walk.controller.abort();
    walk = null;
    observer.unobserve(sentinel);
    timeline.replaceChildren();
    byId("ticket").hidden = true;
    byId("incomplete").hidden = true;
    byId("hint").hidden = false;
    setNotice("");
    renderFooter();
  }

  function fromLocation() {
    var asked = new URLSearchParams(window.location.search).get("ticket");
    input.value = asked || "";
    var id = ticketIdOf(asked);
    if (asked !== null && id === null) setProblem("A ticket id is a whole number, such as 1022.");
    if (id === null) {
      reset();
      input.focus();
    } else {
      show(id);
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var id = ticketIdOf(input.value);
    if (id === null) {
      setProblem("A ticket id is a whole number, such as 1022.");
      input.focus();
      return;
    }
    setProblem("");
    var url = "/?ticket=" + id;
    if (window.location.pathname + window.location.search !== url) {
      window.history.pushState(null, "", url);
    }
    show(id);
  });
  window.addEventListener("popstate", function () {
    setProblem("");
    fromLocation();
  });
  more.addEventListener("click", function () {
    if (walk) walk.failure = null;
    loadNext();
  });
  byId("refetch").addEventListener("click", function () {
    if (walk) show(walk.ticketId);
  });
  byId("logout").addEventListener("click", function () {
    var done = function () {
      window.location.assign("/login?next=/");
    };
    fetch("/api/mind/auth/logout", { method: "POST", credentials: "same-origin" }).then(done, done);
  });

  // Asking who is logged in first sends a person without a session to the login page at once.
  graphql("query Viewer { viewer { name } }")
    .then(function (body) {
      byId("viewer").textContent = body.data.viewer.name;
      byId("logout").hidden = false;
    })
    .catch(function (error) {
      setProblem(error.message);
    })
    .then(fromLocation);
})();
