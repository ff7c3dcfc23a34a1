// Logs in through the JSON endpoint, then goes on to the page that asked for the login.
(function () {
  "use strict";
  var form = document.getElementById("login");
  var problem = document.getElementById("problem");

  // Only paths of this site, as written and percent-decoded: one leading "/", no backslash and
  // no control character (browsers drop tab, CR and LF inside URLs, so "/\t/evil.example" would
  // leave the site). The server refuses the same (app/web/pages.py).
  function isSameOriginPath(target) {
    var decoded;
    try {
      decoded = decodeURIComponent(target);
    } catch (malformed) {
      return false;
    }
    var unsafe = /[\\\u0000-\u001f\u007f]/;
    var plain = [target, decoded].every(function (form) {
      return form.charAt(0) === "/" && form.charAt(1) !== "/" && !unsafe.test(form);
    });
    return plain && new URL(target, window.location.origin).origin === window.location.origin;
  }

  function nextPage() {
    var next = new URLSearchParams(window.location.search).get("next") || "/";
    return isSameOriginPath(next) ? next : "/";
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
