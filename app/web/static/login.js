// Logs in through the JSON endpoint, then goes on to the page that asked for the login.
(function () {
  "use strict";
  var form = document.getElementById("login");
  var problem = document.getElementById("problem");

  function nextPage() {
    var next = new URLSearchParams(window.location.search).get("next") || "/";
    // Only paths of this site: never an open redirect.
    return next.charAt(0) === "/" && next.charAt(1) !== "/" && next.charAt(1) !== "\\" ? next : "/";
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    problem.hidden = true;
    fetch("/api/mind/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      credentials: "same-origin",
      body: JSON.stringify({ email: form.email.value, password: form.password.value }),
    })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) throw new Error(body.error || "Login failed.");
          window.location.assign(nextPage());
        });
      })
      .catch(function (error) {
        problem.textContent = error.message;
        problem.hidden = false;
      });
  });
})();
